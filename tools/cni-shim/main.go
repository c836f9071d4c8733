// Command cni-shim is the `cattail-cni` binary the container runtime executes for every CNI
// call on a node: a thin client of the per-node CNI daemon (`cattail cni-daemon`,
// cni/src/daemon.ts). It starts in about a millisecond, where the whole plugin in Node takes
// tens, and the daemon keeps its datastore connection warm between calls.
//
//	runtime ─exec─▶ shim ─unix socket─▶ daemon: runs the plugin, answers {stdout, exitCode}
//	                  │
//	                  └─ could not connect, or answered {fallback} ─▶ exec cattail-cni-direct
//	                     (beside this binary; same environment and stdin)
//
// The protocol (cni/src/daemon-protocol.ts): one request per connection, the JSON
// {"env": {CNI_*…}, "stdin": "…"}, then this side's EOF; one JSON answer line back.
//
// Invariants: the shim falls back to the direct plugin only before the request was sent, or
// when the daemon says so (it does, untouched, when it cannot see the call's netns). Once ADD or
// DEL was sent, a connection lost without an answer is CNI error 11 (try again later), never a
// second run of the same call: the runtime retries. CHECK and VERSION change nothing, so they
// fall back then too. VERSION is the daemon's (or the direct plugin's) answer: no version list
// lives here.
//
// Static (CGO_ENABLED=0), standard library only; built reproducibly by scripts/setup.sh.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const (
	defaultSocket = "/var/run/cattail/cni.sock"
	socketEnv     = "CATTAIL_CNI_DAEMON_SOCKET"
	directName    = "cattail-cni-direct"
	// The daemon refuses larger requests; a network configuration is a few KiB.
	maxStdin  = 1 << 20
	maxAnswer = 16 << 20
	// CNI spec error codes (cni/src/errors.ts).
	errDecode        = 6
	errTryAgainLater = 11
	dialTimeout      = 2 * time.Second
)

type request struct {
	Env   map[string]string `json:"env"`
	Stdin string            `json:"stdin"`
}

type answer struct {
	Stdout   *string `json:"stdout"`
	ExitCode *int    `json:"exitCode"`
	Fallback *string `json:"fallback"`
}

func main() {
	stdin, err := io.ReadAll(io.LimitReader(os.Stdin, maxStdin+1))
	if err != nil {
		fail(stdin, errDecode, "cannot read the network configuration from stdin", err.Error())
	}
	if len(stdin) > maxStdin {
		fail(nil, errDecode, fmt.Sprintf("the network configuration on stdin is larger than %d bytes", maxStdin), "")
	}
	socket := os.Getenv(socketEnv)
	if socket == "" {
		socket = defaultSocket
	}
	conn, err := net.DialTimeout("unix", socket, dialTimeout)
	if err != nil {
		direct(stdin, fmt.Sprintf("cannot reach the CNI daemon at %s: %v", socket, err))
	}
	uc := conn.(*net.UnixConn)
	body, err := json.Marshal(request{Env: cniEnv(), Stdin: string(stdin)})
	if err != nil {
		fail(stdin, errDecode, "cannot encode the request", err.Error())
	}
	// A write error is not the end: an oversized request is answered before it is read whole.
	_, werr := uc.Write(body)
	if werr == nil {
		werr = uc.CloseWrite()
	}
	raw, rerr := io.ReadAll(io.LimitReader(uc, maxAnswer))
	uc.Close()
	var ans answer
	if jerr := json.Unmarshal(bytes.TrimSpace(raw), &ans); rerr != nil || jerr != nil || len(bytes.TrimSpace(raw)) == 0 {
		lost(stdin, socket, firstErr(rerr, werr, jerr))
	}
	if ans.Fallback != nil {
		direct(stdin, "the CNI daemon sent this call back: "+*ans.Fallback)
	}
	if ans.Stdout == nil || ans.ExitCode == nil {
		lost(stdin, socket, fmt.Errorf("an answer without stdout and exitCode: %.200s", raw))
	}
	os.Stdout.WriteString(*ans.Stdout)
	os.Exit(*ans.ExitCode)
}

// cniEnv is what the plugin reads of its environment: the CNI_* variables (the spec's), and
// CATTAIL_CNI_* (the plugin's own switches, e.g. CATTAIL_CNI_TIMING).
func cniEnv() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, ok := strings.Cut(kv, "=")
		if ok && (strings.HasPrefix(k, "CNI_") || strings.HasPrefix(k, "CATTAIL_CNI_")) {
			env[k] = v
		}
	}
	return env
}

// lost: the request was sent and no answer came (the daemon stopped mid-call). ADD and DEL may
// be half done there, so they are not run again here: error 11, the runtime retries.
func lost(stdin []byte, socket string, err error) {
	cmd := strings.ToUpper(strings.TrimSpace(os.Getenv("CNI_COMMAND")))
	if cmd == "CHECK" || cmd == "VERSION" {
		direct(stdin, fmt.Sprintf("the CNI daemon at %s gave no answer: %v", socket, err))
	}
	fail(stdin, errTryAgainLater, "the CNI daemon went away during the call; try again",
		fmt.Sprintf("%s: %v", socket, err))
}

// direct replaces this process with the full plugin beside it, with the same environment and
// the same stdin (replayed through a pipe, since this process has read it).
func direct(stdin []byte, why string) {
	self, err := os.Executable()
	if err != nil {
		fail(stdin, errTryAgainLater, why+"; and the direct plugin cannot be found", err.Error())
	}
	path := filepath.Join(filepath.Dir(self), directName)
	if err := replayStdin(stdin); err != nil {
		fail(stdin, errTryAgainLater, why+"; and stdin cannot be handed to "+path, err.Error())
	}
	err = syscall.Exec(path, append([]string{path}, os.Args[1:]...), os.Environ())
	fail(stdin, errTryAgainLater, why+"; and "+path+" cannot be run", err.Error())
}

// replayStdin makes fd 0 a pipe holding exactly `data`. The pipe is grown to hold it all
// (stdin is at most 1 MiB, the kernel's default pipe-max-size), so no writer must outlive exec.
func replayStdin(data []byte) error {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return err
	}
	if len(data) > 64<<10 {
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[1]), syscall.F_SETPIPE_SZ, uintptr(len(data))); e != 0 {
			return fmt.Errorf("growing the pipe to %d bytes: %w", len(data), e)
		}
	}
	for off := 0; off < len(data); {
		n, err := syscall.Write(p[1], data[off:])
		if err != nil {
			return err
		}
		off += n
	}
	syscall.Close(p[1])
	// Dup3 without O_CLOEXEC: fd 0 survives the exec.
	if err := syscall.Dup3(p[0], 0, 0); err != nil {
		return err
	}
	return syscall.Close(p[0])
}

// fail prints a CNI error object (spec 1.0 "Error", cni/src/result.ts errorResult) and exits 1.
func fail(stdin []byte, code int, msg, details string) {
	out := map[string]any{"cniVersion": cniVersion(stdin), "code": code, "msg": msg}
	if details != "" {
		out["details"] = details
	}
	b, _ := json.Marshal(out)
	os.Stdout.Write(append(b, '\n'))
	os.Exit(1)
}

// cniVersion is the config's, so the runtime can read the error; 1.0.0 when it has none.
func cniVersion(stdin []byte) string {
	var conf struct {
		CNIVersion string `json:"cniVersion"`
	}
	if json.Unmarshal(stdin, &conf) == nil && conf.CNIVersion != "" {
		return conf.CNIVersion
	}
	return "1.0.0"
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil && !errors.Is(e, io.EOF) {
			return e
		}
	}
	return errors.New("the connection closed without an answer")
}
