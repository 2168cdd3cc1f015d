from django.utils.functional import SimpleLazyObject

from .viewer import viewer_for_request


def viewer(request):
    return {"viewer": SimpleLazyObject(lambda: viewer_for_request(request))}
