// Command centrifuge is the Go baseline of the WebSocket fan-out benchmark: a Centrifuge
// (github.com/centrifugal/centrifuge, Debian's v0.15 package) node used the way the library's own
// examples use it. Built offline in GOPATH mode by bench/targets/centrifuge.mjs; see there for the
// build and for how the benchmark talks to it.
//
// Wire contract:
//
//   - GET /connection/websocket on -port (JSON protocol). The client sends one text frame with the
//     connect command {"id":1,"method":0,"params":{}}. OnConnecting accepts every connection as an
//     anonymous user and subscribes it server-side to the channel "bench", so the connect reply
//     ({"id":1,"result":{"client":"<uuid>","version":"","subs":{"bench":{}}}}) already means
//     "subscribed": the library adds the subscription to its hub before it writes that reply.
//   - Topic spread (bench/topics.mjs): a connect command whose data names channels,
//     {"id":1,"method":0,"params":{"data":{"channels":["u.42","g0.4"]}}}, subscribes the connection
//     server-side to those channels instead (as Centrifugo does with a token's "channels" claim);
//     the connect reply lists them under "subs".
//   - POST /publish on -api-port: the request body (JSON) is published to "bench" (or to the
//     channel named by ?channel=) with node.Publish, unchanged. No history and no recovery for the channel, so a publication is
//     encoded once and queued to every subscriber without touching a stream.
//
// What a subscriber receives: every publication is a JSON push
//
//	{"result":{"channel":"bench","data":{"data":<the published body, byte for byte>}}}
//
// followed by "\n". Each connection has a writer goroutine with a queue; when several replies are
// queued it writes up to 4 of them (the library's fixed defaultMaxMessagesInFrame) concatenated in
// ONE text frame, each terminated by "\n". So a frame carries 1 to 4 publications: count
// publications by searching the payload, not by counting frames.
//
// Pings: the server sends a WebSocket ping control frame (payload "ping") every -ping-interval
// (library default 25 s) and drops a connection that has sent no pong for 10/9 of that interval
// (about 28 s): only a pong extends the read deadline, so clients must answer pings. There are no
// protocol-level (JSON) pings in this version.
//
// Prints one line starting with "listening" on stdout once both ports are bound. SIGTERM/SIGINT
// shut the node down (bounded by a short timeout) and exit.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/centrifugal/centrifuge"
)

const channel = "bench"

// Every connection gets the same server-side subscription; the library copies the map.
var serverSideSubs = map[string]centrifuge.SubscribeOptions{
	// No Recover/Position/Presence/JoinLeave: plain fan-out, nothing kept per channel.
	channel: {},
}

// requestedSubs: the channels named in the connect command's data ({"channels": [...]}), or the
// default "bench" subscription when there is no data.
func requestedSubs(data []byte) (map[string]centrifuge.SubscribeOptions, error) {
	if len(data) == 0 {
		return serverSideSubs, nil
	}
	var req struct {
		Channels []string `json:"channels"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return nil, err
	}
	if len(req.Channels) == 0 {
		return serverSideSubs, nil
	}
	subs := make(map[string]centrifuge.SubscribeOptions, len(req.Channels))
	for _, c := range req.Channels {
		if c == "" {
			return nil, fmt.Errorf("empty channel name")
		}
		subs[c] = centrifuge.SubscribeOptions{}
	}
	return subs, nil
}

func main() {
	host := flag.String("host", "127.0.0.1", "address to bind both ports to")
	port := flag.Int("port", 8000, "public port (WebSocket at /connection/websocket)")
	apiPort := flag.Int("api-port", 8001, "API port (POST /publish)")
	pingInterval := flag.Duration("ping-interval", centrifuge.DefaultWebsocketPingInterval, "WebSocket ping interval (0 = library default)")
	maxBody := flag.Int64("max-body", 1<<20, "largest accepted publish body in bytes")
	flag.Parse()
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)

	cfg := centrifuge.DefaultConfig
	cfg.LogLevel = centrifuge.LogLevelError
	cfg.LogHandler = func(e centrifuge.LogEntry) { log.Printf("%s: %v", e.Message, e.Fields) }

	node, err := centrifuge.New(cfg)
	if err != nil {
		log.Fatalf("centrifuge.New: %v", err)
	}
	// The default broker is the in-memory one (single node), which is what this benchmark wants.
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		subs, err := requestedSubs(e.Data)
		if err != nil {
			return centrifuge.ConnectReply{}, centrifuge.ErrorBadRequest
		}
		return centrifuge.ConnectReply{
			// Empty UserID = anonymous user.
			Credentials:   &centrifuge.Credentials{UserID: ""},
			Subscriptions: subs,
		}, nil
	})
	if err := node.Run(); err != nil {
		log.Fatalf("node.Run: %v", err)
	}

	wsHandler := centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{
		// As in the library's examples: small read buffer (clients only send the connect command
		// and pongs) and pooled write buffers, so an idle connection holds no write buffer.
		ReadBufferSize:     1024,
		UseWriteBufferPool: true,
		PingInterval:       *pingInterval,
		// Benchmark clients send no Origin header; accept any origin anyway.
		CheckOrigin: func(*http.Request) bool { return true },
	})
	public := http.NewServeMux()
	public.Handle("/connection/websocket", wsHandler)

	api := http.NewServeMux()
	api.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, *maxBody+1))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if int64(len(body)) > *maxBody {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		// JSON-protocol clients can only take JSON data (it is embedded raw in the push).
		if !json.Valid(body) {
			http.Error(w, "body is not JSON", http.StatusBadRequest)
			return
		}
		target := channel
		if c := r.URL.Query().Get("channel"); c != "" {
			target = c
		}
		if _, err := node.Publish(target, body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}"))
	})

	publicLn, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		log.Fatalf("listen public: %v", err)
	}
	apiLn, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*apiPort)))
	if err != nil {
		log.Fatalf("listen api: %v", err)
	}
	publicSrv := &http.Server{Handler: public, ReadHeaderTimeout: 30 * time.Second}
	apiSrv := &http.Server{Handler: api, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	serveErr := make(chan error, 2)
	go func() { serveErr <- fmt.Errorf("public server: %w", publicSrv.Serve(publicLn)) }()
	go func() { serveErr <- fmt.Errorf("api server: %w", apiSrv.Serve(apiLn)) }()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("listening ws=ws://%s/connection/websocket api=http://%s/publish pid=%d\n", publicLn.Addr(), apiLn.Addr(), os.Getpid())

	select {
	case err := <-serveErr:
		log.Fatal(err)
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = apiSrv.Close()
	_ = publicLn.Close()
	_ = node.Shutdown(ctx)
	os.Exit(0)
}
