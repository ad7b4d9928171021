"""API input fields that name a school: shared by every app's API (an app may not import another app's
API module, so the field lives with the rows it reads)."""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.api import RowField

from .selectors import school_list


@extend_schema_field(OpenApiTypes.UUID)
class SchoolField(RowField):
    """A school the caller may see, by its id: one of another tenant, or outside the caller's units, is
    "not found"."""

    def resolve(self, *, user, text):
        try:
            pk = uuid.UUID(text)
        except ValueError:
            return None
        return school_list(user=user).filter(pk=pk).first()
