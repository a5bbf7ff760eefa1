from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def floor(request):
    body = request.body.decode()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (body, created_at) VALUES (%s, %s)", [body, timezone.now()])
    async_to_sync(get_channel_layer().group_send)("floor", {"type": "floor.message", "body": body})
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [path("floor/", floor)]
