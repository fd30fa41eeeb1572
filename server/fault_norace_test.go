//go:build !race

package main

// ftRace builds the fault tests' server binary with the race detector when the tests run with it.
const ftRace = false
