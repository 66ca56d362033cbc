package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/brookmq/brook/curve"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The demo over CURVE: the instances, each with its own certificate in
// the trusted directory, exchange work through both restarts; an
// intruder with a certificate outside it is refused by every instance
// and gets no job done.
func TestDemoOverCurve(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseDemoFlags([]string{"-curve", "-curve-dir", dir, "-transport", "tcp", "-jobs", "30", "-rate", "200", "-report", "100ms",
		"-request-timeout", "1s", "-drain", "10s"}, os.Stderr)
	require.NoError(t, err)
	cfg.spawn = testSpawner()
	var out, errOut bytes.Buffer
	require.NoError(t, runDemo(&out, &errOut, cfg), "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	o := out.String()
	assert.Contains(t, o, "CURVE: the ROUTERs share the key pair in "+filepath.Join(dir, "service.key"))
	assert.Contains(t, o, "all 3 instances exchanging work")
	assert.Regexp(t, `refused by every instance \(handshakes refused 0: [1-9]\d*, 1: [1-9]\d*, 2: [1-9]\d*\); the intruder's DEALER was refused \d+ times and got 0 jobs done`, o)
	assert.Equal(t, 2, strings.Count(o, "(they reconnected)"), o)
	assert.Regexp(t, `work went on through both restarts: \d+ jobs done, \d+ sends repeated after an instance went away, 0 failed, 0 abandoned at shutdown`, o)

	// Every instance has its certificate in the trusted directory, kept
	// across its restart; the intruder's is outside it.
	keys := map[curve.Key]bool{}
	for i := range 3 {
		c, err := curve.LoadCertificate(instanceCertPath(dir, i))
		require.NoError(t, err)
		assert.True(t, c.HasSecret())
		keys[c.Public] = true
	}
	assert.Len(t, keys, 3, "one key per instance")
	intruder, err := curve.LoadCertificate(filepath.Join(dir, "intruder.key"))
	require.NoError(t, err)
	assert.False(t, keys[intruder.Public])
}

// An instance over CURVE announces its key; one started without the
// service certificate says how to make it.
func TestInstanceCurveSetup(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	code := mainCode([]string{"instance", "-self", "0", "-peers", "tcp://127.0.0.1:1", "-curve", dir}, &out, &errOut, testSpawner())
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut.String(), "brookcat -keygen "+filepath.Join(dir, "service.key"))
	assert.NoFileExists(t, filepath.Join(dir, "instances", "instance-0.key"), "nothing made before the service certificate is there")

	require.NoError(t, prepareCurveDir(dir, 1))
	own, err := curve.LoadCertificate(instanceCertPath(dir, 0))
	require.NoError(t, err)
	cs, err := loadCurve(dir, instanceCertPath(dir, 0))
	require.NoError(t, err)
	assert.Equal(t, own.Public, cs.own, "an existing certificate is loaded, not replaced")

	other := filepath.Join(t.TempDir(), "elsewhere", "me.key")
	cs, err = loadCurve(dir, other)
	require.NoError(t, err)
	made, err := curve.LoadCertificate(other)
	require.NoError(t, err, "a missing certificate is made")
	assert.Equal(t, made.Public, cs.own)
}

func TestCurveFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-curve-dir", "x"},
		{"instance", "-peers", "tcp://127.0.0.1:1", "-curve-cert", "x"},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, 2, mainCode(args, &out, &errOut, testSpawner()), args)
		assert.Regexp(t, regexp.MustCompile(`needs -curve`), errOut.String(), args)
	}
}
