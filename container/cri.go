package container

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// criAPI is a client of the CRI RuntimeService (containerd, CRI-O) on a unix socket. It speaks
// gRPC itself, over Go's unencrypted HTTP/2, and encodes the few CRI messages it needs by hand
// (field numbers from k8s.io/cri-api's api.proto), so that gosysdig needs neither grpc-go nor
// the generated CRI bindings.
type criAPI struct {
	socket string
	client *http.Client

	mu      sync.Mutex
	service string // "runtime.v1.RuntimeService", or v1alpha2 for older runtimes
	typ     Type   // from Version: containerd, cri-o, or cri for others
	probed  bool
}

func newCRIAPI(socket string, typ Type) *criAPI {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{
		Protocols: &p,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}
	return &criAPI{socket: socket, client: &http.Client{Transport: tr}, service: "runtime.v1.RuntimeService", typ: typ}
}

// grpcError is a gRPC status other than OK.
type grpcError struct {
	Code int
	Msg  string
}

func (e *grpcError) Error() string {
	return fmt.Sprintf("rpc error: code = %d desc = %s", e.Code, e.Msg)
}

const (
	grpcNotFound      = 5
	grpcUnimplemented = 12
)

// post sends one gRPC request (req framed as its one message) to the runtime service's method;
// the response's messages are the caller's to read: one for a unary call, a stream for
// GetContainerEvents.
func (c *criAPI) post(ctx context.Context, method string, req []byte) (*http.Response, error) {
	body := make([]byte, 5, 5+len(req))
	binary.BigEndian.PutUint32(body[1:], uint32(len(req)))
	body = append(body, req...)
	c.mu.Lock()
	svc := c.service
	c.mu.Unlock()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/"+svc+"/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/grpc")
	hreq.Header.Set("Te", "trailers")
	return c.client.Do(hreq)
}

// call makes one unary gRPC call and returns the response message.
func (c *criAPI) call(ctx context.Context, method string, req []byte) ([]byte, error) {
	resp, err := c.post(ctx, method, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %s", method, resp.Status)
	}
	status := resp.Trailer.Get("Grpc-Status")
	msg := resp.Trailer.Get("Grpc-Message")
	if status == "" { // a trailers-only response
		status, msg = resp.Header.Get("Grpc-Status"), resp.Header.Get("Grpc-Message")
	}
	if status != "" && status != "0" {
		code, _ := strconv.Atoi(status)
		return nil, &grpcError{Code: code, Msg: msg}
	}
	if len(data) < 5 {
		return nil, fmt.Errorf("%s: short gRPC response", method)
	}
	n := binary.BigEndian.Uint32(data[1:])
	if data[0] != 0 || int(n) > len(data)-5 {
		return nil, fmt.Errorf("%s: bad gRPC frame", method)
	}
	return data[5 : 5+n], nil
}

// probe asks the runtime its name (once), falling back to the v1alpha2 service.
func (c *criAPI) probe(ctx context.Context) error {
	c.mu.Lock()
	done := c.probed
	c.mu.Unlock()
	if done {
		return nil
	}
	req := pbString(nil, 1, "v1")
	resp, err := c.call(ctx, "Version", req)
	var ge *grpcError
	if errors.As(err, &ge) && ge.Code == grpcUnimplemented {
		c.mu.Lock()
		c.service = "runtime.v1alpha2.RuntimeService"
		c.mu.Unlock()
		resp, err = c.call(ctx, "Version", req)
	}
	if err != nil {
		return err
	}
	name := ""
	pbEach(resp, func(f int, wt int, v uint64, b []byte) {
		if f == 2 && wt == 2 {
			name = string(b)
		}
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.probed = true
	switch name {
	case "containerd":
		c.typ = Containerd
	case "cri-o":
		c.typ = CRIO
	case "":
	default:
		c.typ = CRI
	}
	return nil
}

// inspect fetches one container's status (verbose, for privileged and the sandbox) and its
// pod sandbox's IP.
func (c *criAPI) inspect(ctx context.Context, id string) (*Info, error) {
	if err := c.probe(ctx); err != nil {
		return nil, err
	}
	req := pbString(nil, 1, id)
	req = pbVarint(req, 2, 1)
	resp, err := c.call(ctx, "ContainerStatus", req)
	var ge *grpcError
	if errors.As(err, &ge) && ge.Code == grpcNotFound {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	info := &Info{ID: id, Type: c.typ, Labels: map[string]string{}}
	c.mu.Unlock()
	var verbose string
	pbEach(resp, func(f, wt int, _ uint64, b []byte) {
		switch {
		case f == 1 && wt == 2:
			parseCRIStatus(b, info)
		case f == 2 && wt == 2:
			if k, v := pbMapEntry(b); k == "info" {
				verbose = v
			}
		}
	})
	if verbose != "" {
		var vi struct {
			SandboxID  string `json:"sandboxID"`
			Privileged bool   `json:"privileged"`
		}
		if json.Unmarshal([]byte(verbose), &vi) == nil {
			info.Privileged = vi.Privileged
			if vi.SandboxID != "" {
				info.IP = c.sandboxIP(ctx, vi.SandboxID)
			}
		}
	}
	return info, nil
}

func parseCRIStatus(b []byte, info *Info) {
	imageRef := ""
	pbEach(b, func(f, wt int, v uint64, b []byte) {
		if f == 4 && wt == 0 { // created_at, nanoseconds
			info.CreatedTime = int64(v) / 1e9
		}
		if wt != 2 {
			return
		}
		switch f {
		case 2: // metadata
			pbEach(b, func(f, wt int, _ uint64, b []byte) {
				if f == 1 && wt == 2 {
					info.Name = string(b)
				}
			})
		case 8: // image spec
			pbEach(b, func(f, wt int, _ uint64, b []byte) {
				if f == 1 && wt == 2 {
					info.Image = string(b)
				}
			})
		case 9:
			imageRef = string(b)
		case 12: // labels
			k, v := pbMapEntry(b)
			info.Labels[k] = v
		case 14: // mounts
			m := Mount{RW: true, Propagation: "private"}
			pbEach(b, func(f, wt int, v uint64, b []byte) {
				switch {
				case f == 1 && wt == 2:
					m.Dest = string(b)
				case f == 2 && wt == 2:
					m.Source = string(b)
				case f == 3 && wt == 0:
					m.RW = v == 0
				case f == 5 && wt == 0:
					switch v {
					case 1:
						m.Propagation = "rslave"
					case 2:
						m.Propagation = "rshared"
					}
				}
			})
			info.Mounts = append(info.Mounts, m)
		}
	})
	info.ImageRepo, info.ImageTag, info.ImageDigest = splitImage(info.Image)
	if _, dg, ok := strings.Cut(imageRef, "@"); ok && info.ImageDigest == "" {
		info.ImageDigest = dg
	}
	if strings.HasPrefix(imageRef, "sha256:") {
		info.ImageID = strings.TrimPrefix(imageRef, "sha256:")
	}
}

func (c *criAPI) sandboxIP(ctx context.Context, sandbox string) string {
	resp, err := c.call(ctx, "PodSandboxStatus", pbString(nil, 1, sandbox))
	if err != nil {
		return ""
	}
	ip := ""
	pbEach(resp, func(f, wt int, _ uint64, b []byte) {
		if f != 1 || wt != 2 {
			return
		}
		pbEach(b, func(f, wt int, _ uint64, b []byte) {
			if f != 5 || wt != 2 {
				return
			}
			pbEach(b, func(f, wt int, _ uint64, b []byte) {
				if f == 1 && wt == 2 {
					ip = string(b)
				}
			})
		})
	})
	return ip
}

// Protocol buffers, the little that CRI calls need.

func pbVarint(b []byte, field int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3)
	return binary.AppendUvarint(b, v)
}

func pbString(b []byte, field int, s string) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// pbEach calls fn for each field of a message: its number, wire type, and value (varints and
// fixed-size values in v, length-delimited ones in b). It stops at the first malformed field.
func pbEach(msg []byte, fn func(field, wireType int, v uint64, b []byte)) {
	for len(msg) > 0 {
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return
		}
		msg = msg[n:]
		f, wt := int(key>>3), int(key&7)
		switch wt {
		case 0:
			v, n := binary.Uvarint(msg)
			if n <= 0 {
				return
			}
			msg = msg[n:]
			fn(f, wt, v, nil)
		case 1:
			if len(msg) < 8 {
				return
			}
			fn(f, wt, binary.LittleEndian.Uint64(msg), nil)
			msg = msg[8:]
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return
			}
			fn(f, wt, 0, msg[n:n+int(l)])
			msg = msg[n+int(l):]
		case 5:
			if len(msg) < 4 {
				return
			}
			fn(f, wt, uint64(binary.LittleEndian.Uint32(msg)), nil)
			msg = msg[4:]
		default:
			return
		}
	}
}

// pbMapEntry decodes a map<string,string> entry.
func pbMapEntry(b []byte) (k, v string) {
	pbEach(b, func(f, wt int, _ uint64, b []byte) {
		switch {
		case f == 1 && wt == 2:
			k = string(b)
		case f == 2 && wt == 2:
			v = string(b)
		}
	})
	return k, v
}
