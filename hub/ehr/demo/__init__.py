"""An embedded demo EHR: a small FHIR R4 REST server in plain Python (WSGI,
sqlite3), with no Django, so `make run` can start it as its own process and
the tests can start it on a thread and point the hub's real FHIR client at
it over HTTP.

    store = Store("var/demo-ehr.sqlite3")
    seed(store)
    running = start_in_thread(DemoEhr(store))
    running.base_url  # http://127.0.0.1:PORT/fhir/R4
"""

from hub.ehr.demo.app import DemoEhr, Faults
from hub.ehr.demo.seed import add_patient, seed
from hub.ehr.demo.server import RunningServer, make_server, start_in_thread
from hub.ehr.demo.store import Store, validate_resource

__all__ = ["DemoEhr", "Faults", "RunningServer", "Store", "add_patient", "make_server", "seed", "start_in_thread",
           "validate_resource"]
