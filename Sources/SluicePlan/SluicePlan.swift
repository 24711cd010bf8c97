public enum SluicePlanModule {}
