package chromaauth

// applyEnvHook is replaced by applyChromaEnv once fromenv.go lands.
var applyEnvHook = func(h *ChromaAuth) error { return nil }
