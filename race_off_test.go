//go:build !race

package chromaauth

const raceEnabled = false
