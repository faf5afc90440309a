# A Go program: built in the full Go image, shipped in a small one.
# Build with `docker build -t my-app .`; change ./cmd/app to your main package.
FROM golang:1.22 AS build
WORKDIR /src

# Download the modules first, so that changing the code does not download them again.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/app ./cmd/app

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
