"""The request model of the service, built from the schema's column lists and rules.

Nothing here names a column but the schema's own row rule: flags, integers, ranges and levels
all come from `schema`, so a new feature changes training, validation and the API in one edit.
A customer is the raw row a client sends (0/1 integers for flags, numbers, level strings), as
the training data has it. Validation runs in pydantic-core; the only Python check is one call
per customer for the row rule (a field validator with `info.data` cost 6 µs a row).
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from churn import schema

MAX_CUSTOMERS: Final = 10_000  # per /predict request; more gets a 413 (send a file instead)

# The schema's row rule (schema.raw_schema), as the API states it.
ROW_RULE_FIELD: Final = "total_charges"
ROW_RULE_ERROR: Final = "total_charges_null"
ROW_RULE: Final = "may be null only for a new customer (tenure 0)"
_NEW_IF_ZERO: Final = "tenure"


def _field(column: str) -> tuple[Any, Any]:
    """The annotation of one feature (always required), from the schema's rules for it."""
    if column in schema.BINARY:
        # Not Literal[0, 1]: that takes `true` and `1.0` by equality, even in strict mode.
        return Annotated[int, Field(ge=0, le=1)], ...
    if column in schema.CATEGORICAL:
        return Literal[schema.CATEGORICAL[column]], ...
    low, high = schema.NUMERIC_RANGES[column]
    if column in schema.INTEGER:
        return Annotated[int, Field(ge=low, le=high)], ...
    number = Annotated[float, Field(ge=low, le=high, allow_inf_nan=False)]
    return (number | None if column == ROW_RULE_FIELD else number), ...


class _CustomerBase(BaseModel):
    """Strict types ("34" is not 34), no unknown fields, and the schema's row rule."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _total_charges_known(self) -> _CustomerBase:
        if getattr(self, ROW_RULE_FIELD) is None and getattr(self, _NEW_IF_ZERO) != 0:
            raise PydanticCustomError(ROW_RULE_ERROR, f"{ROW_RULE_FIELD} {ROW_RULE}")
        return self


_FIELDS: dict[str, Any] = {
    schema.ID: (Annotated[str, Field(min_length=1)], ...),
    **{column: _field(column) for column in schema.FEATURES},
}
Customer = create_model(
    "Customer",
    __base__=_CustomerBase,
    __doc__="One customer as a client sends it: the raw columns of the data, without the label.",
    **_FIELDS,
)


def _one_or_many(value: Any) -> Any:
    """A single customer object is a list of one."""
    return [value] if isinstance(value, dict) else value


Customers = Annotated[
    list[Customer],  # type: ignore[valid-type]
    Field(min_length=1, max_length=MAX_CUSTOMERS),
    BeforeValidator(_one_or_many, json_schema_input_type=Customer | list[Customer]),  # type: ignore[valid-type]
]
"""The `customers` of a /predict request: one customer, or a list of 1 to MAX_CUSTOMERS."""
