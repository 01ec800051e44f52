#!/bin/sh
# The container's entrypoint: migrate first, in a step of its own (a failure stops the
# container with the migration's error and exit code), then serve, as the guide runs
# `alembic upgrade head` before the server. The server's own start-up run then finds nothing
# to do (one round trip).
set -e
crm-backend migrate upgrade head
exec crm-backend "$@"
