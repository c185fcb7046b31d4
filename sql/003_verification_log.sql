-- 003: outcomes of `verified` events (spx-data verify), read by gap analysis.
-- No foreign key to processing_log on purpose: a sealed file the log never recorded is verified
-- too ('unrecorded'), and that must not invent a processing_log row.
CREATE TABLE verification_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  date TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'corrupt', 'missing', 'unrecorded')),
  checksum TEXT,
  reason TEXT,
  verified_at DATETIME NOT NULL
);

CREATE INDEX idx_verification_log_date ON verification_log(date, verified_at);
