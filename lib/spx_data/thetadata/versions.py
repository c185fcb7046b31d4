"""The API versions and their status paths, in detection order, without pyarrow: `spx-data
status` and `health` probe the terminal with these and must answer fast (the v2 and v3 modules
load pyarrow, about 0.4 s)."""
STATUS_PATHS = {"v3": "/v3/terminal/mdds/status", "v2": "/v2/system/mdds/status"}
