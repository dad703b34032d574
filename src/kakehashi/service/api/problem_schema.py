"""The ``kakehashi.problem`` document (``Problem.to_dict()``) as a JSON Schema, for the OpenAPI
description of ``POST /v1/jobs`` and ``POST /v1/estimate``.

JSON Schema states the shape (typed variables with bounds, a linear/quadratic objective,
constraints with a sense and a right-hand side); what it cannot state (every term names a declared
variable, names are unique, ``lb <= ub``) the handlers check and answer 422 naming the field.
The examples are real documents that the API accepts.
"""

from __future__ import annotations

from typing import Any

SCHEMA_NAME = "ProblemDocument"

_LABEL: dict[str, Any] = {
    "description": "A variable name: a string, an integer, or a list of them (a tuple label).",
    "anyOf": [
        {"type": "string", "maxLength": 200},
        {"type": "integer"},
        {"type": "array", "items": {"type": ["string", "integer"]}, "maxItems": 8},
    ],
}
_NUMBER: dict[str, Any] = {"type": "number"}


def _terms() -> dict[str, Any]:
    return {
        "linear": {
            "type": "array",
            "description": "[variable, coefficient] pairs.",
            "items": {"type": "array", "prefixItems": [_LABEL, _NUMBER], "minItems": 2, "maxItems": 2},
        },
        "quadratic": {
            "type": "array",
            "description": "[variable, variable, coefficient] triples.",
            "items": {
                "type": "array",
                "prefixItems": [_LABEL, _LABEL, _NUMBER],
                "minItems": 3,
                "maxItems": 3,
            },
        },
        "offset": _NUMBER,
    }


#: A knapsack of two items (a CQM: one constraint) and a three-spin Ising-like QUBO.
EXAMPLES: list[dict[str, Any]] = [
    {
        "format": "kakehashi.problem",
        "version": 1,
        "name": "knapsack2",
        "sense": "max",
        "variables": [{"name": "x1", "type": "BINARY"}, {"name": "x2", "type": "BINARY"}],
        "objective": {"linear": [["x1", 3.0], ["x2", 4.0]], "quadratic": [], "offset": 0.0},
        "constraints": [{"name": "weight", "linear": [["x1", 2.0], ["x2", 3.0]], "sense": "<=", "rhs": 4.0}],
    },
    {
        "format": "kakehashi.problem",
        "version": 1,
        "name": "qubo3",
        "variables": [
            {"name": 0, "type": "BINARY"},
            {"name": 1, "type": "BINARY"},
            {"name": 2, "type": "BINARY"},
        ],
        "objective": {"linear": [[0, -1.0], [1, -1.0], [2, -1.0]], "quadratic": [[0, 1, 2.0], [1, 2, 2.0]]},
    },
]


def problem_document_schema() -> dict[str, Any]:
    """JSON Schema (2020-12, as OpenAPI 3.1 uses it) of a ``kakehashi.problem`` document."""
    return {
        "title": "kakehashi.problem",
        "type": "object",
        "required": ["variables"],
        "properties": {
            "format": {"const": "kakehashi.problem"},
            "version": {"type": "integer", "minimum": 1, "maximum": 1},
            "name": {"type": "string", "maxLength": 200},
            "sense": {"enum": ["min", "max"]},
            "known_optimum": {"type": ["number", "null"]},
            "metadata": {"type": "object", "description": "Free-form; kept with the job."},
            "variables": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": _LABEL,
                        "type": {"enum": ["BINARY", "SPIN", "INTEGER", "REAL"], "default": "BINARY"},
                        "lb": {**_NUMBER, "description": "Lower bound (INTEGER and REAL)."},
                        "ub": {**_NUMBER, "description": "Upper bound (INTEGER and REAL)."},
                    },
                },
            },
            "objective": {"type": "object", "properties": _terms()},
            "constraints": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sense"],
                    "properties": {
                        "name": _LABEL,
                        **_terms(),
                        "sense": {"enum": ["<=", ">=", "=="]},
                        "rhs": _NUMBER,
                    },
                },
            },
        },
        "examples": EXAMPLES,
    }


def install(schema: dict[str, Any]) -> None:
    """Put :func:`problem_document_schema` into an OpenAPI document's components (the request
    models' ``problem`` fields refer to it)."""
    schema.setdefault("components", {}).setdefault("schemas", {})[SCHEMA_NAME] = problem_document_schema()
