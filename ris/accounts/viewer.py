"""The viewer: who is asking, as the sharing engine needs to know it."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Membership, Role, ServiceKind

SESSION_KEY = "ris_membership_id"

ROLE_START_PAGES = {
    Role.SOCIAL_WORKER: "workspace:home",
    Role.EMPLOYMENT_COUNSELLOR: "workspace:home",
    Role.COORDINATOR: "workspace:coordinator",
    Role.NGO_TECHNICIAN: "portal:home",
    Role.EVALUATOR: "evaluation:home",
    Role.DATA_PROTECTION_OFFICER: "dpo:home",
    Role.ADMINISTRATOR: "admin:index",
}


@dataclass(frozen=True)
class Viewer:
    user_id: int
    membership_id: int
    organisation_id: int
    organisation_name: str
    service: str
    role: str
    community_code: str

    @property
    def service_label(self) -> str:
        return ServiceKind(self.service).label

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @classmethod
    def from_membership(cls, membership: Membership) -> Viewer:
        org = membership.organisation
        return cls(
            user_id=membership.user_id,
            membership_id=membership.pk,
            organisation_id=org.pk,
            organisation_name=org.name,
            service=org.kind,
            role=membership.role,
            community_code=org.community_id,
        )


def viewer_for_request(request) -> Viewer | None:
    """The active membership of the signed-in user (chosen in session, else the first)."""
    if hasattr(request, "_ris_viewer"):
        return request._ris_viewer
    viewer = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        memberships = Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
        chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        membership = None
        if chosen:
            membership = memberships.select_related("organisation").filter(pk=chosen).first()
        if membership is None:
            membership = memberships.select_related("organisation").order_by("pk").first()
        if membership is not None:
            viewer = Viewer.from_membership(membership)
    request._ris_viewer = viewer
    return viewer
