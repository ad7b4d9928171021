from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import HasAction
from schools import permissions
from schools.models import Grade, School, SchoolClass
from schools.permissions import Action
from schools.selectors import class_list, grade_list, school_list


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
