// Package minio registers resources of the Pulumi minio provider by their type
// tokens.
//
// The generated Go SDK (github.com/pulumi/pulumi-minio/sdk/go/minio) is not
// served by the module proxy this project builds against, so this package
// stands in for it. The engine only ever sees type tokens, property names and
// a plugin version, so registering by token produces the same resources the
// real SDK would, provided those three things match. They are taken from the
// provider's schema at tag v0.17.1 and every registration is pinned to that
// plugin version.
//
// Type, field and constructor names follow the generated SDK, and every
// exported identifier here exists there with the same shape. When the real SDK
// becomes available, delete this package and change the import path; callers
// need no other edits. Only the resources this project uses are provided.
package minio
