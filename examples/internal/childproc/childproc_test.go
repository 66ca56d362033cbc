package childproc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A child that SIGTERM itself ended counts as clean only when Terminate
// sent it; any other failure, or another signal, does not.
func TestClean(t *testing.T) {
	if os.Getenv("CHILDPROC_SLEEP") == "1" {
		time.Sleep(time.Hour) // ended by the parent
	}
	run := func(sig syscall.Signal) error {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestClean$")
		cmd.Env = append(os.Environ(), "CHILDPROC_SLEEP=1")
		require.NoError(t, cmd.Start())
		require.NoError(t, cmd.Process.Signal(sig))
		return cmd.Wait()
	}
	term := run(syscall.SIGTERM)
	require.Error(t, term)
	assert.True(t, EndedBeforeHandler(term))
	kill := run(syscall.SIGKILL)
	assert.False(t, EndedBeforeHandler(kill))
	assert.False(t, EndedBeforeHandler(nil))

	assert.True(t, (&Process{Terminated: true, Err: term}).Clean())
	assert.False(t, (&Process{Err: term}).Clean(), "a SIGTERM the coordinator did not send")
	assert.False(t, (&Process{Terminated: true, Err: kill}).Clean())
	assert.True(t, (&Process{}).Clean())
}
