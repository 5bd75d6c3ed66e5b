// SPDX-License-Identifier: Apache-2.0

package vectors

// The committed vectors are generated from the rules in dataplane/doc.go by ./gen, which
// builds every frame with gopacket; TestVectorsUpToDate fails when the file is stale.
//go:generate go run ./gen -o ../../testdata/vectors.json
