"""The Theta Terminal client: transport (slots, timeouts, bodies streamed as they arrive), error
mapping, the v2 and v3 request/parse sets, one client over both, and the parallel expiration
fetcher."""
