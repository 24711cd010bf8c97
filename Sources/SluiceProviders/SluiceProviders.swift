/// Model, search, fetch and document providers: the protocols the engine calls and their implementations.
public enum SluiceProvidersModule {}
