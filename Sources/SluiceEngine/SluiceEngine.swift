/// The interpreter that runs plans and streams their events.
public enum SluiceEngineModule {}
