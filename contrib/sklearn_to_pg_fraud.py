"""scikit-learn <-> pg_fraud: a fitted logistic-regression pipeline to a pg_fraud.model/1
document, and a document back to a pipeline that scores the same.

    from sklearn_to_pg_fraud import to_document, to_pipeline
    doc = to_document(pipeline, label="fraud_reported", booleans=["is_new_device"])
    cur.execute("SELECT fraud_import_model(%s, 'from_sklearn')", (json.dumps(doc),))
    pipeline_again = to_pipeline(doc)          # predict_proba equals fraud_score

What maps (anything else is refused with ValueError saying what and why):
- Pipeline(ColumnTransformer(...), LogisticRegression) with two classes, remainder "drop";
- numeric columns: StandardScaler, SimpleImputer(strategy="mean") before it, or "passthrough"
  (pg_fraud imputes a missing number with the training mean: a median or constant fill is
  refused, as it would score missing values differently);
- boolean columns (name them in `booleans`): the same transformers, mapped to a boolean
  feature (pg_fraud reads a boolean column as 0/1; a numeric feature would refuse it);
- categorical columns: OneHotEncoder(handle_unknown="ignore", drop=None, "first" or
  "if_binary"), optionally after SimpleImputer(strategy="constant"): a missing value then
  scores as its fill category ("missing_weight" in the document), an unknown one as 0.

Tested by test/scripts/sklearn_converter.py on the insurance data with missing values:
scores equal predict_proba to 1e-9, both ways.
"""
import copy
import math

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

FORMAT = "pg_fraud.model/1"


def _steps(transformer):
    """The steps of a column's transformer: a Pipeline's, or the one transformer."""
    if isinstance(transformer, Pipeline):
        return [step for _, step in transformer.steps]
    return [transformer]


def _split(pipeline):
    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise ValueError("expected a Pipeline of a ColumnTransformer and a LogisticRegression")
    pre, clf = pipeline.steps[0][1], pipeline.steps[1][1]
    if not isinstance(pre, ColumnTransformer):
        raise ValueError("the pipeline's first step must be a ColumnTransformer")
    if not isinstance(clf, LogisticRegression):
        raise ValueError(f"the last step must be a LogisticRegression, not {type(clf).__name__}")
    if len(clf.classes_) != 2:
        raise ValueError("pg_fraud scores two classes; this model has " + str(len(clf.classes_)))
    if pre.remainder != "drop":
        raise ValueError('the ColumnTransformer\'s remainder must be "drop" (name every column a transformer reads)')
    return pre, clf


def _numeric(steps, column):
    """(mean, scale, fill) of a numeric column's steps: x -> (x - mean) / scale."""
    mean, scale, imputed = 0.0, 1.0, None
    for step in steps:
        if step == "passthrough":
            continue
        if isinstance(step, SimpleImputer):
            if step.strategy != "mean":
                raise ValueError(f'column "{column}": SimpleImputer(strategy="{step.strategy}") is not pg_fraud\'s '
                                 "imputation (a missing number scores as the training mean): use strategy=\"mean\"")
            imputed = float(step.statistics_[0])
        elif isinstance(step, StandardScaler):
            mean = float(step.mean_[0]) if step.with_mean else 0.0
            scale = float(step.scale_[0]) if step.with_std else 1.0
        else:
            raise ValueError(f'column "{column}": {type(step).__name__} has no pg_fraud equivalent')
    if imputed is not None and not math.isclose(imputed, mean, rel_tol=1e-12, abs_tol=1e-12):
        raise ValueError(f'column "{column}": the imputer\'s fill {imputed} is not the scaler\'s mean {mean}')
    return mean, scale, imputed


def _category_key(value, column):
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer()):
        return str(int(value))
    raise ValueError(f'column "{column}": category {value!r} is not text or an integer')


def _categorical(steps, column, coefs):
    """The feature of a one-hot encoded column, and how many coefficients it used."""
    fill = None
    encoder = None
    for step in steps:
        if isinstance(step, SimpleImputer):
            if step.strategy != "constant":
                raise ValueError(f'column "{column}": a categorical SimpleImputer must fill a constant category')
            fill = step.statistics_[0]
        elif isinstance(step, OneHotEncoder):
            encoder = step
        else:
            raise ValueError(f'column "{column}": {type(step).__name__} has no pg_fraud equivalent')
    if encoder is None:
        raise ValueError(f'column "{column}": no OneHotEncoder')
    if getattr(encoder, "_infrequent_enabled", False):
        raise ValueError(f'column "{column}": infrequent categories have no pg_fraud equivalent')
    # handle_unknown="error" maps too: scikit-learn refuses an unknown category, pg_fraud scores it 0.
    categories = list(encoder.categories_[0])
    dropped = None
    if encoder.drop_idx_ is not None and encoder.drop_idx_[0] is not None:
        dropped = int(encoder.drop_idx_[0])
    weights, used, missing = {}, 0, None
    for i, category in enumerate(categories):
        weight = 0.0 if i == dropped else float(coefs[used])
        used += 0 if i == dropped else 1
        if category is None or (isinstance(category, float) and math.isnan(category)):
            missing = weight  # scikit-learn's own missing-value category
            continue
        weights[_category_key(category, column)] = weight
    feature = {"name": column, "kind": "categorical", "weights": weights, "default_weight": 0.0}
    if fill is not None:
        missing = weights.get(_category_key(fill, column), 0.0)
    if missing is not None:
        feature["missing_weight"] = missing
    return feature, used


def to_document(pipeline, label=None, booleans=(), threshold=0.5):
    """The pg_fraud.model/1 document of a fitted pipeline (see the module's notes)."""
    pre, clf = _split(pipeline)
    coef = clf.coef_[0]
    intercept = float(clf.intercept_[0])
    features, offset = [], 0
    for name, transformer, columns in pre.transformers_:
        if transformer == "drop" or name == "remainder":
            continue
        for k, column in enumerate(columns):
            steps = _steps(transformer)
            if any(isinstance(s, OneHotEncoder) for s in steps):
                per_column = _slice_column(transformer, k)
                feature, used = _categorical(_steps(per_column), column, coef[offset:])
                features.append(feature)
                offset += used
                continue
            mean, scale, imputed = _numeric(_steps(_slice_column(transformer, k)), column)
            weight = float(coef[offset])
            offset += 1
            if column in booleans:
                # coef * (b - mean) / scale = (coef / scale) * b - coef * mean / scale
                intercept -= weight * mean / scale
                feature = {"name": column, "kind": "boolean", "weight": weight / scale,
                           "impute": imputed if imputed is not None else mean}
                if not 0.0 <= feature["impute"] <= 1.0:
                    raise ValueError(f'boolean column "{column}" has a mean outside [0, 1]')
            else:
                feature = {"name": column, "kind": "numeric", "mean": mean, "scale": scale, "weight": weight}
            features.append(feature)
    if offset != len(coef):
        raise ValueError(f"the pipeline gives {len(coef)} inputs to the model; {offset} were mapped")
    doc = {"format": FORMAT, "algorithm": "logistic_regression", "intercept": intercept, "threshold": threshold,
           "features": features}
    if label:
        doc["label"] = label
    return doc


def _slice_column(transformer, k):
    """The transformer of one column of a multi-column transformer (fitted statistics sliced)."""
    steps = []
    for step in _steps(transformer):
        if step == "passthrough":
            steps.append(step)
            continue
        one = copy.copy(step)
        if isinstance(step, SimpleImputer):
            one.statistics_ = step.statistics_[k:k + 1]
        elif isinstance(step, StandardScaler):
            for attribute in ("mean_", "scale_", "var_"):
                if getattr(step, attribute, None) is not None:
                    setattr(one, attribute, getattr(step, attribute)[k:k + 1])
        elif isinstance(step, OneHotEncoder):
            one.categories_ = step.categories_[k:k + 1]
            one.drop_idx_ = None if step.drop_idx_ is None else step.drop_idx_[k:k + 1]
        steps.append(one)
    return make_pipeline(*steps) if len(steps) > 1 else steps[0]


def to_pipeline(doc):
    """A fitted pipeline that scores as the document does (numeric, boolean and categorical
    features; hour_of_day, day_of_week, history features and transforms are refused). It is
    fitted on a few made-up rows, then given the document's statistics and weights."""
    import pandas as pd

    if doc.get("format") != FORMAT or doc.get("algorithm") != "logistic_regression":
        raise ValueError("not a pg_fraud.model/1 logistic-regression document")
    transformers, plan, intercept = [], [], float(doc["intercept"])
    columns = {}
    for f in doc["features"]:
        kind, name = f.get("kind", "numeric"), f["name"]
        if kind == "numeric":
            if f.get("transform"):
                raise ValueError(f'feature "{name}": the "{f["transform"]}" transform is not mapped back')
            transformers.append((name, make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), [name]))
            columns[name] = [0.0, 1.0]
        elif kind == "boolean":
            transformers.append((name, SimpleImputer(strategy="mean"), [name]))  # w * b; missing: w * impute
            columns[name] = [0.0, 1.0]
        elif kind == "categorical":
            fill = "(missing)"
            while fill in f["weights"]:
                fill = "(" + fill + ")"
            categories = sorted(list(f["weights"]) + [fill])
            transformers.append((name, make_pipeline(SimpleImputer(strategy="constant", fill_value=fill),
                                                     OneHotEncoder(categories=[categories], handle_unknown="ignore")),
                                 [name]))
            columns[name] = categories
        else:
            raise ValueError(f'feature "{name}": {kind} features have no scikit-learn transformer here')
        plan.append(f)
    rows = max([2] + [len(v) for v in columns.values()])
    frame = pd.DataFrame({name: [values[i % len(values)] for i in range(rows)] for name, values in columns.items()})
    pre = ColumnTransformer(transformers, remainder="drop")
    clf = LogisticRegression()
    pipeline = Pipeline([("pre", pre), ("clf", clf)])
    pipeline.fit(frame, [i % 2 for i in range(rows)])
    coefs = []
    for (name, fitted, _), f in zip(pre.transformers_, plan):
        kind = f.get("kind", "numeric")
        steps = _steps(fitted)
        if kind == "numeric":
            mean, scale = float(f.get("mean", 0.0)), float(f.get("scale", 1.0))
            steps[0].statistics_ = np.array([mean])
            steps[1].mean_, steps[1].scale_, steps[1].var_ = np.array([mean]), np.array([scale]), np.array([scale ** 2])
            coefs.append(float(f["weight"]))
        elif kind == "boolean":
            steps[0].statistics_ = np.array([float(f.get("impute", 0.0))])
            coefs.append(float(f["weight"]))
        else:
            default = float(f.get("default_weight", 0.0))
            missing = f.get("missing_weight")
            fill = steps[0].fill_value
            intercept += default  # an unknown category encodes as zeros: the default weight
            for category in steps[1].categories_[0]:
                weight = f["weights"].get(category)
                if category == fill:
                    weight = float(missing) if missing is not None else default
                coefs.append(float(weight) - default)
    clf.coef_ = np.array([coefs])
    clf.intercept_ = np.array([intercept])
    return pipeline
