"""Operations over a data directory: status, health checks, stopping runs, retries, cleanup and
verification. The `spx-data` commands status, list, health, stop, retry, cleanup and verify are
thin docopt wrappers over these modules."""
