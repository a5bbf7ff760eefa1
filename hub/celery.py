import os

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

# What a patient or an agent waits for goes first. Celery's Redis transport
# keeps a list per priority step (0, 3, 6, 9) and a worker takes from step 0
# before the others. Deliveries, attachment fetches and call pick-ups go
# without a priority, which is step 0; every other task (sweeps, offers,
# rollups) is routed to step 6 behind them.
URGENT_TASKS = frozenset({"hub.tasks.deliver_event", "hub.tasks.fetch_attachment", "hub.tasks.take_call"})
BACKGROUND_PRIORITY = 6


def route_urgent_first(name, args, kwargs, options, task=None, **rest):
    """A Celery router (CELERY_TASK_ROUTES): background tasks at step 6."""
    if name in URGENT_TASKS:
        return None
    return {"queue": app.conf.task_default_queue, "priority": BACKGROUND_PRIORITY}


app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fixup closes every database connection before and after
# each task, and in a prefork worker the connection pool with it: every task
# then opened a new pool, and with it new PostgreSQL sessions (a server
# process forked, authenticated, its caches cold), about nine a second at a
# busy hour. The fixup's reuse count puts that off for good; Django's own
# rule runs at the task's edges instead, as at a request's: a connection
# that broke or outlived CONN_MAX_AGE goes, a healthy one goes back to the
# pool for the next task. The fixup still closes what a child inherits at
# fork.
app.conf["CELERY_DB_REUSE_MAX"] = 2**62


def _survive_a_lost_broker() -> None:
    """Keep a worker alive when its connection to Redis breaks.

    On a lost broker connection Celery 5.7 first `collect()`s the consumer's
    connection (which closes its channel and drops the transport's client)
    and then `close()`s it. Closing the channel a second time restores the
    tasks it had taken and not yet acknowledged through that client, which
    is gone: AttributeError, which Celery counts as unrecoverable, and the
    worker exits (the redis-restart drill saw it in two runs of three, when
    the worker held prefetched tasks). The channel was closed by the
    collect; forgetting it afterwards makes the close a no-op, which is
    what Celery 5.6 did (it did not close after collecting). The tasks go
    back to the queue as before: by the broker's visibility timeout."""
    from celery.worker.consumer.consumer import Consumer

    original = Consumer.on_connection_error_after_connected
    if getattr(original, "hub_survives_lost_broker", False):
        return

    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            collect = connection.collect

            def collect_then_forget_channel(*args, **kwargs):
                try:
                    return collect(*args, **kwargs)
                finally:
                    connection._default_channel = None

            connection.collect = collect_then_forget_channel
        return original(self, exc)

    on_connection_error_after_connected.hub_survives_lost_broker = True
    Consumer.on_connection_error_after_connected = on_connection_error_after_connected


_survive_a_lost_broker()


@worker_init.connect
def _check_kept_connections(**kwargs):
    """A kept connection may have died since the last task (PostgreSQL
    restarted, a proxy timed out): a worker's pool tests each one before
    handing it out (set before the prefork children are forked). One round
    trip per task, where a web process would pay it per request."""
    from django.db import connections

    connections["default"].settings_dict["CONN_HEALTH_CHECKS"] = True


@task_prerun.connect
@task_postrun.connect
def _tidy_database_connections(task=None, **kwargs):
    if task is not None and getattr(task.request, "is_eager", False):
        return  # inside the caller's transaction (tests, scripts)
    from django.db import close_old_connections

    close_old_connections()


@setup_logging.connect
def _log_through_the_hubs_handlers(loglevel=None, **kwargs):
    """The worker and beat log through settings.LOGGING, whose handlers
    redact patient data and quiet the periodic sweeps (docs/hardening.md),
    instead of Celery's own handlers. --loglevel still sets the level."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
