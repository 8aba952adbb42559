#!/usr/bin/python3
"""Exports the scikit-learn comparison fixtures under test/fixtures/ml/ and scikit-learn's own scores.

Run with Debian's scikit-learn (apt-get install -y python3-sklearn):

    /usr/bin/python3 scripts/ml/export-fixtures.py [OUT_DIR]

For each data set it writes `<name>-train.csv` and `<name>-test.csv`: a header row, the numeric feature
columns, the last column `target`. Every number is written with 6 significant digits (`%.6g`), which
keeps the two 10,000-row synthetic sets at about 1.3 MB (train) and 0.55 MB (test) a file; scikit-learn
is then fitted on the files read back, so both sides of the comparison see exactly the same numbers.

Splits: `train_test_split(X, y, test_size=0.3, random_state=42, stratify=y)` for classification, the
same without `stratify` for regression.

The reference, `sklearn-reference.json`, holds per data set and estimator the test accuracy
(classification) or R² (regression) and the fit time, with scikit-learn's defaults:
  - logisticRegression: Pipeline([StandardScaler(), LogisticRegression(max_iter=10000)]) (C=1, lbfgs, L2),
    fitted with ConvergenceWarning raised as an error, so every fit converged
  - decisionTree: DecisionTreeClassifier(random_state=0) / DecisionTreeRegressor(random_state=0)
  - randomForest: RandomForestClassifier(random_state=0) / RandomForestRegressor(random_state=0)
    (100 trees, bootstrap; max_features sqrt for classification, all features for regression)
  - linearRegression: LinearRegression() (ordinary least squares with an intercept)
The regression trees are there for information: the parity bar on regression is linearRegression's.
"""

import json
import os
import platform
import re
import sys
import time
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_iris,
    load_wine,
    make_classification,
    make_regression,
)
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

TEST_SIZE = 0.3
SPLIT_SEED = 42
FORMAT = "%.6g"


def column_name(name):
    return re.sub(r"[^0-9A-Za-z]+", "_", str(name)).strip("_").lower()


def sklearn_set(loader):
    bunch = loader()
    return bunch.data, bunch.target, [column_name(n) for n in bunch.feature_names]


def numbered(width):
    return [f"x{i}" for i in range(width)]


def datasets():
    """(name, task, X, y, feature names, description)"""
    X, y, names = sklearn_set(load_iris)
    yield "iris", "classification", X, y, names, "sklearn.datasets.load_iris()"
    X, y, names = sklearn_set(load_wine)
    yield "wine", "classification", X, y, names, "sklearn.datasets.load_wine()"
    X, y, names = sklearn_set(load_breast_cancer)
    yield "breast-cancer", "classification", X, y, names, "sklearn.datasets.load_breast_cancer()"
    X, y = make_classification(n_samples=10000, n_features=20, n_informative=10, random_state=42)
    yield (
        "synthetic-classification",
        "classification",
        X,
        y,
        numbered(20),
        "make_classification(n_samples=10000, n_features=20, n_informative=10, random_state=42)",
    )
    X, y, names = sklearn_set(load_diabetes)
    yield "diabetes", "regression", X, y, names, "sklearn.datasets.load_diabetes()"
    X, y = make_regression(n_samples=10000, n_features=20, noise=10, random_state=42)
    yield (
        "synthetic-regression",
        "regression",
        X,
        y,
        numbered(20),
        "make_regression(n_samples=10000, n_features=20, noise=10, random_state=42)",
    )


def estimators(task):
    if task == "classification":
        return [
            (
                "logisticRegression",
                lambda: Pipeline(
                    [("scaler", StandardScaler()), ("model", LogisticRegression(max_iter=10000))]
                ),
                "accuracy",
            ),
            ("decisionTree", lambda: DecisionTreeClassifier(random_state=0), "accuracy"),
            ("randomForest", lambda: RandomForestClassifier(random_state=0), "accuracy"),
        ]
    return [
        ("linearRegression", lambda: LinearRegression(), "r2"),
        ("decisionTree", lambda: DecisionTreeRegressor(random_state=0), "r2"),
        ("randomForest", lambda: RandomForestRegressor(random_state=0), "r2"),
    ]


def write_csv(path, X, y, names, task):
    header = ",".join([*names, "target"])
    target = y.astype(np.int64).reshape(-1, 1) if task == "classification" else y.reshape(-1, 1)
    with open(path, "w", newline="\n") as out:
        out.write(header + "\n")
        for row, t in zip(X, target):
            cells = [FORMAT % v for v in row]
            cells.append(str(int(t[0])) if task == "classification" else FORMAT % t[0])
            out.write(",".join(cells) + "\n")


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return data[:, :-1], data[:, -1]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("test", "fixtures", "ml")
    os.makedirs(out_dir, exist_ok=True)
    warnings.simplefilter("error", ConvergenceWarning)
    reference = {
        "generatedBy": "scripts/ml/export-fixtures.py",
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
        "split": {"test_size": TEST_SIZE, "random_state": SPLIT_SEED, "stratify": "classification only"},
        "numberFormat": FORMAT,
        "estimators": {
            "logisticRegression": "Pipeline([('scaler', StandardScaler()), ('model', LogisticRegression(max_iter=10000))])",
            "decisionTree": "DecisionTreeClassifier(random_state=0) / DecisionTreeRegressor(random_state=0)",
            "randomForest": "RandomForestClassifier(random_state=0) / RandomForestRegressor(random_state=0)",
            "linearRegression": "LinearRegression()",
        },
        "datasets": {},
    }
    for name, task, X, y, names, source in datasets():
        stratify = y if task == "classification" else None
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=stratify
        )
        train_file, test_file = f"{name}-train.csv", f"{name}-test.csv"
        write_csv(os.path.join(out_dir, train_file), X_train, y_train, names, task)
        write_csv(os.path.join(out_dir, test_file), X_test, y_test, names, task)
        # Fit on the numbers as written, not as generated.
        X_train, y_train = read_csv(os.path.join(out_dir, train_file))
        X_test, y_test = read_csv(os.path.join(out_dir, test_file))
        results = {}
        for algorithm, make, metric in estimators(task):
            model = make()
            started = time.perf_counter()
            model.fit(X_train, y_train)
            train_ms = (time.perf_counter() - started) * 1000
            predicted = model.predict(X_test)
            score = accuracy_score(y_test, predicted) if metric == "accuracy" else r2_score(y_test, predicted)
            results[algorithm] = {metric: round(float(score), 6), "trainMs": round(train_ms, 1)}
        entry = {
            "task": task,
            "source": source,
            "train": train_file,
            "test": test_file,
            "trainRows": int(X_train.shape[0]),
            "testRows": int(X_test.shape[0]),
            "features": int(X_train.shape[1]),
            "results": results,
        }
        if task == "classification":
            entry["classes"] = int(len(np.unique(y_train)))
        reference["datasets"][name] = entry
        print(name, json.dumps(results), file=sys.stderr)
    with open(os.path.join(out_dir, "sklearn-reference.json"), "w") as out:
        json.dump(reference, out, indent=2)
        out.write("\n")


if __name__ == "__main__":
    main()
