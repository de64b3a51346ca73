// Command goclient uses the chroma-go client (github.com/amikos-tech/chroma-go,
// its v2 API) through the chroma_auth gateway, trusting Caddy's local CA by
// file with WithSSLCert and authenticating with WithAuth.
//
//	cd examples/clients/go && go run .
//
// Env (defaults: the `make run` demo): CHROMA_URL (https://localhost:8443),
// CHROMA_CA_CERT (.run/caddy/pki/authorities/local/root.crt, relative to the
// repository root), CHROMA_USER and CHROMA_PASSWORD for Basic auth (admin /
// admin:secret), or CHROMA_TOKEN for a token, sent as `Authorization:
// Bearer` unless CHROMA_TOKEN_HEADER=X-Chroma-Token; CHROMA_COLLECTION (demo);
// CHROMA_TENANT and CHROMA_DATABASE (chroma-go reads them itself; default
// default_tenant and default_database) for a user scoped to one.
//
// It is a module of its own so that the plugin's go.mod does not carry
// chroma-go.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/amikos-tech/chroma-go/pkg/embeddings"
)

func env(name, fallback string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return fallback
}

// credentials picks chroma-go's own provider for the configured credential.
func credentials() chroma.CredentialsProvider {
	if token := os.Getenv("CHROMA_TOKEN"); token != "" {
		header := chroma.AuthorizationTokenHeader // Authorization: Bearer <token>
		if os.Getenv("CHROMA_TOKEN_HEADER") == "X-Chroma-Token" {
			header = chroma.XChromaTokenHeader
		}
		return chroma.NewTokenAuthCredentialsProvider(token, header)
	}
	return chroma.NewBasicAuthCredentialsProvider(env("CHROMA_USER", "admin"), env("CHROMA_PASSWORD", "admin:secret"))
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client, err := chroma.NewHTTPClient(
		chroma.WithBaseURL(env("CHROMA_URL", "https://localhost:8443")),
		chroma.WithSSLCert(env("CHROMA_CA_CERT", "../../../.run/caddy/pki/authorities/local/root.crt")),
		chroma.WithAuth(credentials()),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	if err := client.Heartbeat(ctx); err != nil {
		log.Fatal("heartbeat: ", err)
	}
	fmt.Println("heartbeat: ok")
	version, err := client.GetVersion(ctx)
	if err != nil {
		log.Fatal("version: ", err)
	}
	fmt.Println("version:", version)

	// Bring your own vectors. Any collection needs an embedding function in
	// chroma-go, and its default one downloads a model: give a local one.
	name := env("CHROMA_COLLECTION", "demo")
	collection, err := client.CreateCollection(ctx, name,
		chroma.WithEmbeddingFunctionCreate(embeddings.NewConsistentHashEmbeddingFunction()))
	if err != nil {
		log.Fatal("create collection: ", err) // a 401 reads "Error (401) AuthorizationError: Unauthorized"
	}
	err = collection.Add(ctx,
		chroma.WithIDs("cats", "cars"),
		chroma.WithTexts("Cats sleep most of the day.", "Cars need fuel."),
		chroma.WithEmbeddings(
			embeddings.NewEmbeddingFromFloat32([]float32{0.9, 0.1, 0.0}),
			embeddings.NewEmbeddingFromFloat32([]float32{0.0, 0.2, 0.9}),
		),
	)
	if err != nil {
		log.Fatal("add: ", err)
	}
	result, err := collection.Query(ctx,
		chroma.WithQueryEmbeddings(embeddings.NewEmbeddingFromFloat32([]float32{1, 0, 0})),
		chroma.WithNResults(1))
	if err != nil {
		log.Fatal("query: ", err)
	}
	fmt.Println("nearest:", result.GetIDGroups()[0][0])
	count, err := collection.Count(ctx)
	if err != nil {
		log.Fatal("count: ", err)
	}
	fmt.Println("count:", count)
	if err := client.DeleteCollection(ctx, name); err != nil {
		log.Fatal("delete collection: ", err)
	}
	fmt.Println("deleted:", name)
}
