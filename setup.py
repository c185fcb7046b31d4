from glob import glob

from setuptools import find_packages, setup

setup(
    name="spx-data",
    version="0.1.0",
    description="Download SPX index option greeks from a Theta Terminal into verified daily Parquet files",
    python_requires=">=3.9",
    package_dir={"": "lib"},
    packages=find_packages("lib"),
    scripts=sorted(glob("bin/spx-*")),
    data_files=[("share/spx-data/sql", sorted(glob("sql/*.sql")))],
    include_package_data=True,
    install_requires=[
        "requests>=2.28",
        "ujson>=5.4",
        "pyarrow>=14",
        "sqlite-utils>=3.35",
        "holidays>=0.40",
        # docopt-ng is the maintained fork of docopt (same `docopt` module and API); the original
        # 0.6.2 is unmaintained and warns on current Pythons.
        "docopt-ng>=0.9",
    ],
    extras_require={"test": ["pytest>=7", "responses>=0.23", "bats-core>=1.10", "pandas>=2"]},
)
