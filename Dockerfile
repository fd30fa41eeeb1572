# coffer's container image, built from nothing: no base image is pulled from a registry.
# The build context is made outside the container by `make image-context` (a static CGO_ENABLED=0
# binary and the host's CA certificates, next to this file in build/image/), then:
#
#   make image-context && docker build -t coffer:latest build/image
#
# (podman build and buildah bud take the same context.) Run it with a PostgreSQL URL, e.g.
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://coffer@db/coffer -e LOOKUP_KEY=<hex> coffer
FROM scratch
# lib/pq's sslmode=verify-full and SMTP STARTTLS check certificates against these.
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY coffer /coffer
# No shell, no users: run as an unprivileged id. SQLite would need a writable volume, e.g.
# -v coffer-data:/data -e DATABASE_URL=sqlite:///data/coffer.db; production uses PostgreSQL.
USER 65532:65532
ENV ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/coffer"]
