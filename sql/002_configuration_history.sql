-- 002: every configuration change is kept: old value, new value, when, by whom.
CREATE TABLE configuration_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  old_value TEXT,                           -- NULL when the key had no row before
  new_value TEXT NOT NULL,
  changed_at DATETIME NOT NULL,
  changed_by TEXT NOT NULL
);

CREATE INDEX idx_configuration_history_key ON configuration_history(key, changed_at);
