"""The alert inbox in the workspace (/espacio/alertas/): my alerts and my organisation's queue."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ris.accounts.access import role_required

from .forms import ResolveForm
from .selectors import delivery_for, inbox_for
from .services import INBOX_ROLES, alert_acknowledge, alert_resolve


@role_required(*INBOX_ROLES)
def alert_inbox(request):
    resolved = request.GET.get("estado") == "resueltas"
    inbox = inbox_for(viewer=request.viewer, resolved=resolved)
    return render(
        request,
        "diagnostics/alert_inbox.html",
        {"inbox": inbox, "resolved": resolved, "form": ResolveForm()},
    )


@role_required(*INBOX_ROLES)
@require_POST
def alert_acknowledge_view(request, delivery_id: int):
    delivery = delivery_for(viewer=request.viewer, delivery_id=delivery_id)
    if alert_acknowledge(viewer=request.viewer, delivery=delivery):
        messages.success(request, _("Alerta marcada como vista."))
    return redirect("alerts:inbox")


@role_required(*INBOX_ROLES)
@require_POST
def alert_resolve_view(request, delivery_id: int):
    delivery = delivery_for(viewer=request.viewer, delivery_id=delivery_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("alerts:inbox")
    try:
        alert_resolve(viewer=request.viewer, delivery=delivery, note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Alerta resuelta."))
    return redirect("alerts:inbox")
