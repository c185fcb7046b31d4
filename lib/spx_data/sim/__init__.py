"""spx-sim: a local Theta Terminal serving deterministic SPX option greeks over the v2 and v3 HTTP API.

noise      deterministic hashing: every number is a pure function of what it describes
market     the data model: spot level, intraday path, Black-Scholes quotes and greeks (vectorised)
chain      which expirations and strikes are listed on a date, per root and scale preset
dataset    both of the above behind a cache: the rows of one (date, root, expiration)
text       vectorised number/time formatting and the zero-copy join of rows into one body
render_v2, render_v3   the response encodings
params, replies, select, v2, v3   the endpoints: parameters, 4xx/5xx replies, row selection
terminal   a request in, a reply out: data requests, faults, /sim/ control (no sockets)
faults, pages, stats, cache, server   fault settings, v2 pagination, counters, LRU, HTTP plumbing
oracle     the rows the server encodes, as DESIGN §2 tick rows, for end-to-end comparisons
"""
