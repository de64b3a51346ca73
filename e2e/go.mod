module github.com/caddy-chroma-auth/caddy-chroma-auth/e2e

go 1.26.0

replace github.com/caddy-chroma-auth/caddy-chroma-auth => ../

require (
	github.com/amikos-tech/chroma-go v0.3.5
	github.com/caddy-chroma-auth/caddy-chroma-auth v0.0.0-00010101000000-000000000000
	github.com/go-jose/go-jose/v4 v4.1.6
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
	golang.org/x/crypto v0.57.0
)

require (
	github.com/Masterminds/semver/v3 v3.5.0 // indirect
	github.com/amikos-tech/pure-tokenizers v0.1.1 // indirect
	github.com/creasty/defaults v1.8.0 // indirect
	github.com/ebitengine/purego v0.8.4 // indirect
	github.com/gabriel-vasile/mimetype v1.4.12 // indirect
	github.com/go-playground/locales v0.14.1 // indirect
	github.com/go-playground/universal-translator v0.18.1 // indirect
	github.com/go-playground/validator/v10 v10.30.1 // indirect
	github.com/go-viper/mapstructure/v2 v2.4.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/leodido/go-urn v1.4.0 // indirect
	github.com/oklog/ulid v1.3.1 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/yalue/onnxruntime_go v1.22.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
	golang.org/x/text v0.42.0 // indirect
)
