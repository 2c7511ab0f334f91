# shoald packaged as an image. Build: docker build -t shoal .
# Run (it manages namespaces, cgroups, mounts, nftables and VXLAN of the host):
#   docker run -d --name shoald --privileged --network host --pid host --cgroupns host \
#     -v /var/lib/shoal:/var/lib/shoal -v /run/shoal:/run/shoal -v /sys/fs/cgroup:/sys/fs/cgroup \
#     shoal -H unix:///run/shoal/docker.sock
#   export DOCKER_HOST=unix:///run/shoal/docker.sock

FROM golang:1.26-bookworm AS build
# libcontainer's seccomp support is cgo against libseccomp.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libseccomp-dev pkg-config \
	&& rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG GOTAGS=seccomp
RUN CGO_ENABLED=1 go build -tags "$GOTAGS" -trimpath -ldflags "-s -w" -o /out/shoald ./cmd/shoald

FROM debian:bookworm-slim
# libseccomp2: runtime library of the cgo seccomp binding; nftables and
# iproute2: the tools to inspect what shoald programs; ca-certificates: TLS
# to registries.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libseccomp2 nftables iproute2 ca-certificates \
	&& rm -rf /var/lib/apt/lists/*
COPY --from=build /out/shoald /usr/local/bin/shoald
VOLUME /var/lib/shoal
# Engine API is a unix socket by default; cluster channel, gossip, VXLAN.
EXPOSE 2377/tcp 7946/tcp 7946/udp 4789/udp
ENTRYPOINT ["/usr/local/bin/shoald"]
CMD ["-H", "unix:///run/shoal/docker.sock", "--data-root", "/var/lib/shoal", "--exec-root", "/run/shoal/exec"]
