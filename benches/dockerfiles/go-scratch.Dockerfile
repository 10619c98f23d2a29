FROM golang:latest AS build
USER root
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/app ./cmd/app \
 && sudo chown 10001 /out/app
FROM alpine AS certs
RUN apk add --no-cache ca-certificates
FROM scratch
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/app /app
USER 10001:10001
ENTRYPOINT ["/app"]
