-- 001: the four tables of the PRD's "Database Schema Design" (columns, CHECKs, FKs, indices exactly
-- as the PRD), the schema_version table, and the default configuration rows.
-- Applied by spx_data.store inside one transaction together with its schema_version row.

CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
);

CREATE TABLE processing_log (
  date TEXT PRIMARY KEY,                    -- Trading date (YYYY-MM-DD)
  status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'success', 'failed')),
  started_at DATETIME,                      -- Processing start timestamp
  completed_at DATETIME,                    -- Processing completion timestamp
  record_count INTEGER,                     -- Total records processed
  expiration_count INTEGER,                 -- Number of expirations processed
  file_size_bytes INTEGER,                  -- Output parquet file size
  checksum TEXT,                            -- SHA-256 file integrity hash
  error_message TEXT,                       -- Error details if failed
  error_type TEXT,                          -- Categorized error type
  retry_count INTEGER DEFAULT 0,            -- Number of retry attempts
  processing_duration_ms INTEGER,           -- Total processing time
  api_requests_made INTEGER,                -- Number of API calls made
  temp_file_size_bytes INTEGER,             -- Peak temporary file size
  memory_peak_mb INTEGER,                   -- Peak memory usage during processing
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX idx_processing_log_status ON processing_log(status);
CREATE INDEX idx_processing_log_date ON processing_log(date);
CREATE INDEX idx_processing_log_updated_at ON processing_log(updated_at);

CREATE TABLE configuration (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  description TEXT,
  value_type TEXT NOT NULL CHECK (value_type IN ('string', 'number', 'boolean', 'date')),
  is_required BOOLEAN DEFAULT FALSE,
  updated_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  updated_by TEXT DEFAULT 'system'
);

CREATE TABLE error_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  date TEXT NOT NULL,
  error_type TEXT NOT NULL,
  error_message TEXT NOT NULL,
  stack_trace TEXT,
  retry_attempt INTEGER DEFAULT 0,
  context_data TEXT,                        -- JSON context for debugging
  occurred_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  resolved_at DATETIME,                     -- When error was resolved
  resolution_method TEXT,                   -- How error was resolved
  FOREIGN KEY (date) REFERENCES processing_log(date)
);

CREATE INDEX idx_error_log_date ON error_log(date);
CREATE INDEX idx_error_log_type ON error_log(error_type);
CREATE INDEX idx_error_log_occurred_at ON error_log(occurred_at);

CREATE TABLE performance_metrics (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  date TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  metric_value REAL NOT NULL,
  unit TEXT,
  context TEXT,                             -- Additional metric context
  recorded_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  FOREIGN KEY (date) REFERENCES processing_log(date)
);

CREATE INDEX idx_performance_metrics_date_metric ON performance_metrics(date, metric_name);
CREATE INDEX idx_performance_metrics_recorded_at ON performance_metrics(recorded_at);

-- Default configuration values: the PRD's rows, then the keys the pipeline adds.
-- Rows owned by 'system' are the defaults; spx_data.config.KEYS holds the same values (a test
-- keeps the two equal). thetadata.baseUrl uses 127.0.0.1 rather than the PRD's localhost: the
-- terminal wants one host name per session and localhost may resolve to ::1 first.
-- database.path is seeded as the PRD shows but never read from here (the database cannot name
-- itself): it comes from --db, SPX_DATA_DATABASE_PATH or the default.
INSERT INTO configuration (key, value, description, value_type, is_required) VALUES
('thetadata.baseUrl', 'http://127.0.0.1:25510', 'ThetaData API base URL', 'string', true),
('thetadata.maxConcurrentRequests', '4', 'Maximum concurrent API requests', 'number', true),
('processing.startDate', '', 'Initial processing start date', 'date', true),
('processing.outputDirectory', './data/parquet', 'Parquet file output location', 'string', true),
('processing.tempDirectory', './data/temp', 'Temporary file location', 'string', true),
('database.path', './data/spx-pipeline.db', 'SQLite database file location', 'string', true);

INSERT INTO configuration (key, value, description, value_type, is_required) VALUES
('thetadata.apiVersion', 'auto', 'Theta Terminal API version: auto, v2 or v3', 'string', true),
('thetadata.connectTimeoutSeconds', '5', 'Seconds to wait for a connection to the terminal', 'number', true),
('thetadata.requestTimeoutSeconds', '120', 'Seconds to wait for a response from the terminal', 'number', true),
('thetadata.maxRetries', '6', 'Retries of one request after a retryable error', 'number', true),
('thetadata.retryBaseSeconds', '1.0', 'First retry backoff in seconds (doubles per retry)', 'number', true),
('thetadata.responseFormat', 'csv', 'Response format requested from the terminal: csv, json or ndjson', 'string', true),
('processing.intervalMs', '60000', 'Sampling interval in milliseconds', 'number', true),
('processing.roots', 'SPXW,SPX', 'Option roots to download, comma-separated', 'string', true),
('processing.retryLimit', '3', 'Attempts per date before it is left as failed', 'number', true),
('processing.parallelism', '2', 'Dates processed at the same time', 'number', true);
