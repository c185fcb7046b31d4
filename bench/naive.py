"""The naive reference: the script a user would write to get one day of SPX greeks into Parquet.

Usage: naive.py BASE_URL DAY OUT.parquet

One requests.get per expiration (v2 bulk greeks, legacy JSON), response.json(), a pandas
DataFrame per contract, one concat of the whole day, to_parquet. It does what a first script does
and nothing more: no validation, no de-duplication, no retries, no staging, no checksum, one
request at a time, the whole day in memory. bench/run.py runs it on the same simulated day as
spx-data and reports the ratio; it prints the number of rows written.
"""
import sys

import pandas as pd
import requests


def main(base_url, day, out):
    ymd = day.replace("-", "")
    session = requests.Session()
    listing = session.get(f"{base_url}/v2/list/contracts/option/quote",
                          params={"start_date": ymd, "root": "SPXW,SPX"}).json()
    names = listing["header"]["format"]
    root_at, exp_at = names.index("root"), names.index("expiration")
    expirations = sorted({(row[root_at], row[exp_at]) for row in listing["response"]})

    frames = []
    for root, expiration in expirations:
        url = f"{base_url}/v2/bulk_hist/option/greeks"
        params = {"root": root, "exp": expiration, "start_date": ymd, "end_date": ymd, "ivl": 60000, "rth": "true"}
        while url:
            response = session.get(url, params=params)
            if response.status_code == 472:     # no data for this expiration
                break
            response.raise_for_status()
            data = response.json()
            columns = data["header"]["format"]
            for item in data["response"]:
                frame = pd.DataFrame(item["ticks"], columns=columns)
                contract = item["contract"]
                frame["root"] = contract["root"]
                frame["expiration"] = contract["expiration"]
                frame["strike"] = contract["strike"] / 1000
                frame["right"] = contract["right"]
                frames.append(frame)
            next_page = data["header"].get("next_page")
            url, params = (next_page, None) if next_page not in (None, "", "null") else (None, None)

    day_frame = pd.concat(frames, ignore_index=True)
    day_frame.to_parquet(out, index=False)
    print(len(day_frame))


if __name__ == "__main__":
    main(*sys.argv[1:4])
