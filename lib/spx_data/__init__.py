"""spx-data: download SPX index option greeks from a Theta Terminal into verified daily Parquet files."""

__version__ = "0.1.0"
