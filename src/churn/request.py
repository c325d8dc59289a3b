"""The request model of the service, built from the schema's column lists and rules.

Nothing here names a column but the schema's own row rule: flags, integers, ranges and levels
all come from `schema`, so a new feature changes training, validation and the API in one edit.
A customer is the raw row a client sends (0/1 integers for flags, numbers, level strings), as
the training data has it, validated into a dict (a TypedDict: 41 ms for 10,000 customers, where
a pydantic model instance each took 111 ms). Validation runs in pydantic-core; the only Python
check is one call per customer for the row rule.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    PlainSerializer,
    with_config,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from churn import schema

MAX_CUSTOMERS: Final = 10_000  # per /predict request; more gets a 413 (send a file instead)

# The schema's row rule (schema.raw_schema), as the API states it.
ROW_RULE_FIELD: Final = "total_charges"
ROW_RULE_ERROR: Final = "total_charges_null"
ROW_RULE: Final = "may be null only for a new customer (tenure 0)"
_NEW_IF_ZERO: Final = "tenure"


def _field(column: str) -> Any:
    """The annotation of one feature (always required), from the schema's rules for it."""
    if column in schema.BINARY:
        # Not Literal[0, 1]: that takes `true` and `1.0` by equality, even in strict mode.
        return Annotated[int, Field(ge=0, le=1)]
    if column in schema.CATEGORICAL:
        return Literal[schema.CATEGORICAL[column]]
    low, high = schema.NUMERIC_RANGES[column]
    if column in schema.INTEGER:
        return Annotated[int, Field(ge=low, le=high)]
    number = Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)]
    return number | None if column == ROW_RULE_FIELD else number


_FIELDS: dict[str, Any] = {
    schema.ID: Annotated[str, Field(min_length=1)],
    **{column: _field(column) for column in schema.FEATURES},
}
# Strict types ("34" is not 34), no unknown fields. (Built from the schema, so not a literal.)
Customer: Any = with_config(ConfigDict(strict=True, extra="forbid"))(
    TypedDict("Customer", _FIELDS)  # type: ignore[operator]
)
Customer.__doc__ = "One customer as a client sends it: the raw columns of the data, no label."


def _total_charges_known(customer: dict[str, Any]) -> dict[str, Any]:
    """The schema's row rule; its error names the field (mlgitops.serving.rejections)."""
    if customer[ROW_RULE_FIELD] is None and customer[_NEW_IF_ZERO] != 0:
        raise PydanticCustomError(ROW_RULE_ERROR, f"{ROW_RULE_FIELD} {ROW_RULE}")
    return customer


ValidCustomer = Annotated[Customer, AfterValidator(_total_charges_known)]
"""One customer, as the API checks it: the fields' rules, then the row rule."""


def _one_or_many(value: Any) -> Any:
    """A single customer object is a list of one."""
    return [value] if isinstance(value, dict) else value


def _as_is(customers: list[Any]) -> list[Any]:
    return customers


_LIST: Any = Annotated[list[ValidCustomer], Field(min_length=1, max_length=MAX_CUSTOMERS)]
_ONE_OR_LIST: Any = Customer | _LIST  # what a client may send, as the OpenAPI document shows it


def _one_of(schema: JsonSchemaValue) -> JsonSchemaValue:
    """The union as oneOf (a customer is an object, a list an array: exactly one matches).

    BentoML's OpenAPI document keeps only the first choice of an anyOf.
    """
    if "anyOf" in schema:
        schema["oneOf"] = schema.pop("anyOf")
    return schema


Customers = Annotated[
    _LIST,
    BeforeValidator(_one_or_many, json_schema_input_type=_ONE_OR_LIST),
    # BentoML documents a request body by its serialisation schema: this makes that one
    # customer or a list too (it serialises the list as it is), or the document, and the
    # schemathesis fuzzing driven by it, would know only the list.
    PlainSerializer(_as_is, return_type=_ONE_OR_LIST),
    GetPydanticSchema(get_pydantic_json_schema=lambda core, handler: _one_of(handler(core))),
]
"""The `customers` of a /predict request: one customer, or a list of 1 to MAX_CUSTOMERS."""
