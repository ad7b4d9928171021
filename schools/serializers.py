"""API serializers of schools' rows that other apps' APIs answer with (an app may not import another
app's API module): a background job, which an operation that starts one answers 202 with."""

from __future__ import annotations

from rest_framework import serializers

from .models import Job


class JobSerializer(serializers.ModelSerializer):
    """后台任务: where a long piece of work stands (queued, running with its progress, done with its
    result, failed with its message)."""

    class Meta:
        model = Job
        fields = [
            "id", "kind", "status", "done", "total", "message", "result", "attempts", "created_at", "started_at",
            "finished_at",
        ]  # fmt: skip
        read_only_fields = fields
