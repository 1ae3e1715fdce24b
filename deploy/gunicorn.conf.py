"""gunicorn settings for every service (and the embedded runner), from the environment."""

import gc
import multiprocessing
import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A recycled worker boots the whole app again and serves its first requests cold (Jinja and
# SQL compilation, new connections): at the trace page's ~1,000 requests/s a limit of a few
# thousand restarts a worker every few seconds. 0 turns recycling off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
# Only the gateway (nginx) may set X-Forwarded-*; see TRUSTED_PROXIES for the app's side.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
access_log_format = (
    '{"remote":"%(h)s","method":"%(m)s","path":"%(U)s","status":%(s)s,'
    '"bytes":%(B)s,"duration_us":%(D)s,"request_id":"%({x-request-id}o)s"}'
)
# Paths (prefixes) answered without an access line unless they fail (5xx): the public trace
# pages, which the gateway logs already and which are most of the traffic.
QUIET_PATHS = tuple(
    p.strip() for p in os.environ.get("GUNICORN_QUIET_PATHS", "/q/,/01/").split(",") if p.strip()
)


class QuietPathsLogger(Logger):
    """gunicorn's logger without the access line of QUIET_PATHS' successful answers (building
    it walks every header and environ entry: a noticeable share of a cheap request)."""

    def access(self, resp, req, environ, request_time):
        if (
            QUIET_PATHS
            and environ.get("PATH_INFO", "").startswith(QUIET_PATHS)
            and str(resp.status)[:1] != "5"
        ):
            return
        super().access(resp, req, environ, request_time)


logger_class = QuietPathsLogger


def post_worker_init(worker):
    """The app is loaded: its start-up objects (modules, apps, compiled routes) move out of
    the cyclic collector's reach, so collections walk only what requests allocate."""
    gc.collect()
    gc.freeze()
