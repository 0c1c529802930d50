FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /parley ./cmd/parley

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /parley /usr/local/bin/parley
RUN useradd --system --home /var/lib/parley parley && mkdir -p /var/lib/parley && chown parley /var/lib/parley
USER parley
EXPOSE 8080 8443/udp 8443/tcp
ENTRYPOINT ["parley"]
