"""Cut the bundled FER2013 sample from the full data set.

The sample keeps the Kaggle layout (emotion, pixels, Usage) and is stratified by
emotion inside each Usage split, so every class appears in training, validation
(PublicTest) and test (PrivateTest). Rerunning with the same seed and source
reproduces the committed file byte for byte.

Usage: python scripts/make_sample.py ../shared/data/fer2013.csv.gz fer/data/fer2013_sample.csv.gz
"""

import argparse
import gzip

import pandas as pd
from sklearn.model_selection import train_test_split

ROWS_PER_SPLIT = {"Training": 1400, "PublicTest": 300, "PrivateTest": 300}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="full FER2013 CSV (plain or gzip)")
    parser.add_argument("target", help="where to write the gzip sample")
    parser.add_argument("--seed", type=int, default=2013, help="random seed for the draw")
    args = parser.parse_args()

    table = pd.read_csv(args.source, dtype={"emotion": "int64", "pixels": "string"})
    parts = []
    for usage, rows in ROWS_PER_SPLIT.items():
        split = table[table["Usage"] == usage]
        drawn, _ = train_test_split(split, train_size=rows, stratify=split["emotion"], random_state=args.seed)
        parts.append(drawn.sort_index())
    sample = pd.concat(parts)

    # mtime=0 keeps the gzip header, and so the file's md5, independent of the run date.
    with open(args.target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
        handle.write(sample.to_csv(index=False).encode())
    print(f"wrote {len(sample)} rows to {args.target}")
    print(sample.groupby(["Usage", "emotion"]).size().unstack(fill_value=0))


if __name__ == "__main__":
    main()
