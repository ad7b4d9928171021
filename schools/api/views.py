from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.api import HasAction
from schools import permissions, services
from schools.door import services as door_services
from schools.models import Grade, Job, School, SchoolClass
from schools.permissions import Action
from schools.selectors import class_list, grade_list, school_list
from schools.serializers import JobSerializer


class SchoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "code", "name", "stages", "area", "township", "is_active"]


class GradeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Grade
        fields = ["id", "school", "stage", "entry_year"]


class SchoolClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = SchoolClass
        fields = ["id", "school", "grade", "number"]


class SchoolViewSet(viewsets.ReadOnlyModelViewSet):
    """Schools of the caller's district that their role reaches."""

    serializer_class = SchoolSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.SCHOOL_VIEW, "retrieve": Action.SCHOOL_VIEW}

    def get_queryset(self):
        return school_list(user=self.request.user)


class GradeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = GradeSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.SCHOOL_VIEW, "retrieve": Action.SCHOOL_VIEW}
    filterset_fields = ["school", "stage"]

    def get_queryset(self):
        return grade_list(user=self.request.user)


class SchoolClassViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SchoolClassSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.SCHOOL_VIEW, "retrieve": Action.SCHOOL_VIEW}
    filterset_fields = ["school", "grade"]

    def get_queryset(self):
        return class_list(user=self.request.user)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    tenant = serializers.CharField(allow_null=True)
    roles = serializers.ListField(child=serializers.CharField())
    platform_operator = serializers.BooleanField()


class MeView(APIView):
    """Who the caller is: account, tenant and roles."""

    @extend_schema(responses=MeSerializer)
    def get(self, request):
        user = request.user
        data = {
            "username": user.username,
            "full_name": user.full_name,
            "tenant": user.tenant.slug if user.tenant_id else None,
            "roles": sorted(permissions.roles_of(user)),
            "platform_operator": permissions.is_platform_operator(user),
        }
        return Response(MeSerializer(data).data)


BAD_CREDENTIALS = _("Unable to log in with provided credentials.")


SECOND_FACTOR_NEEDED = _("A valid code of the account's authenticator app (otp) is required.")


class TokenEndpointThrottle(AnonRateThrottle):
    """Per client address, at settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token"]."""

    scope = "token"


class TokenCreateSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False, write_only=True)
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=60, help_text="The device or program the token is for."
    )
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text="The code of the account's authenticator app (or a recovery code): required for the roles "
        "that sign in with two factors (district center, auditor, administrator).",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The key: send it as `Authorization: Token <key>`. Shown only here.")
    expiry = serializers.DateTimeField()


class TokenCreateView(APIView):
    """Exchange a username and password for an API token. The key is in this answer only (the server keeps
    its digest); it expires at `expiry`. List and revoke tokens on the "API tokens" page."""

    authentication_classes = []  # the credentials are in the body; no session, so no CSRF
    permission_classes = [AllowAny]
    throttle_classes = [TokenEndpointThrottle]  # password guessing: a few tries a minute per address

    @extend_schema(request=TokenCreateSerializer, responses={200: TokenSerializer}, auth=[])
    def post(self, request):
        data = TokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request._request, username=data.validated_data["username"], password=data.validated_data["password"]
        )
        if user is None:
            raise serializers.ValidationError({"non_field_errors": [BAD_CREDENTIALS]})
        # A token is a session that never asks again: issued only past the second factor, when it is due.
        if door_services.second_factor_needed(user) and not door_services.second_factor_verify(
            request=None, user=user, code=data.validated_data.get("otp", "")
        ):
            raise serializers.ValidationError({"otp": [SECOND_FACTOR_NEEDED]})
        token, key = services.api_token_create(user=user, name=data.validated_data.get("name", ""))
        return Response(TokenSerializer({"token": key, "expiry": token.token.expiry}).data)


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Background jobs the caller may see (the ones they started; auditors see all): an operation that
    starts one answers 202 with it, and its client polls `/jobs/{id}/` until the status is SUCCEEDED
    or FAILED. `?kind=` narrows the list."""

    serializer_class = JobSerializer
    permission_classes = [HasAction]
    required_actions = {"list": Action.JOB_VIEW, "retrieve": Action.JOB_VIEW}
    filterset_fields = ["kind", "status"]

    def get_queryset(self):
        return Job.objects.visible_to(self.request.user).order_by("-created_at", "-pk")
