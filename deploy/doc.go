// Package deploy holds coffer's example deployment (HAProxy, systemd, PostgreSQL standby settings;
// docs/operations.md) and the test that builds the container image's context as the Makefile does.
package deploy
