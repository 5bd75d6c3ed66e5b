// SPDX-License-Identifier: Apache-2.0

package api

// The generated mplsdp.pb.go and mplsdp_grpc.pb.go are committed: building needs no
// protoc. `go generate ./control/api/` (make generate) rebuilds them with the pinned
// protoc-gen-go and protoc-gen-go-grpc (go.mod tool block), installing protoc first
// when it is missing (Debian).

//go:generate sh -c "command -v protoc >/dev/null || apt-get install -y protobuf-compiler || { apt-get update && apt-get install -y protobuf-compiler; }"
//go:generate sh -c "protoc -I . --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) --plugin=protoc-gen-go-grpc=$(go tool -n protoc-gen-go-grpc) --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative mplsdp.proto"
