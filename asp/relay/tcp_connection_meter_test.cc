#include "asp/relay/tcp_connection_meter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "gtest/gtest.h"

namespace asp::relay {
namespace {

// A loopback listener, a client connected to it, and the accepted end.
struct LoopbackConnection {
  LoopbackConnection() {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address;
    std::memset(&address, 0, sizeof(address));
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    listen(listener, 1);
    client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    connect(client, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    server = accept(listener, nullptr, nullptr);
  }
  ~LoopbackConnection() {
    close(client);
    close(server);
    close(listener);
  }
  int listener = -1;
  int client = -1;
  int server = -1;
  int port = 0;
};

TEST(TcpConnectionMeter, CountsWhatTheConnectionCarriedBothWays) {
  LoopbackConnection connection;
  auto meter = TcpConnectionMeter::find("127.0.0.1:" + std::to_string(connection.port));
  ASSERT_TRUE(meter.has_value());
  const std::string out(100000, 'o');
  ASSERT_EQ(write(connection.client, out.data(), out.size()), static_cast<ssize_t>(out.size()));
  std::string in(200000, '\0');
  size_t got = 0;
  while (got < out.size())
    got += static_cast<size_t>(read(connection.server, in.data(), in.size()));
  ASSERT_EQ(write(connection.server, "back", 4), 4);
  char back[4];
  ASSERT_EQ(read(connection.client, back, 4), 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the last acks
  WireBytes bytes = meter->read();
  EXPECT_EQ(bytes.sent, out.size());
  EXPECT_EQ(bytes.received, 4u);
}

TEST(TcpConnectionMeter, TheAcceptedEndOfAListenerInThisProcessIsNotTaken) {
  LoopbackConnection connection;
  auto meter = TcpConnectionMeter::find("127.0.0.1:" + std::to_string(connection.port));
  ASSERT_TRUE(meter.has_value());
  ASSERT_EQ(write(connection.client, "x", 1), 1);
  char x;
  ASSERT_EQ(read(connection.server, &x, 1), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(meter->read().sent, 1u) << "the client's end, not the server's";
}

TEST(TcpConnectionMeter, AClosedConnectionKeepsItsLastCounts) {
  auto connection = std::make_unique<LoopbackConnection>();
  auto meter = TcpConnectionMeter::find("127.0.0.1:" + std::to_string(connection->port));
  ASSERT_TRUE(meter.has_value());
  ASSERT_EQ(write(connection->client, "abc", 3), 3);
  char buffer[3];
  ASSERT_EQ(read(connection->server, buffer, 3), 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(meter->read().sent, 3u);
  connection.reset();
  LoopbackConnection other;  // may reuse the same descriptor numbers
  EXPECT_EQ(meter->read().sent, 3u);
}

TEST(TcpConnectionMeter, NoConnectionToThatPeerIsNone) {
  EXPECT_FALSE(TcpConnectionMeter::find("127.0.0.1:1").has_value());
  EXPECT_FALSE(TcpConnectionMeter::find("not an address").has_value());
}

TEST(SplitHostPort, AcceptsNamesAddressesAndBracketedV6) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(splitHostPort("manager.example:7443", &host, &port));
  EXPECT_EQ(host, "manager.example");
  EXPECT_EQ(port, 7443);
  ASSERT_TRUE(splitHostPort("[::1]:80", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_FALSE(splitHostPort("::1:80", &host, &port)) << "v6 needs brackets";
  EXPECT_FALSE(splitHostPort("manager:0", &host, &port));
  EXPECT_FALSE(splitHostPort("manager:65536", &host, &port));
  EXPECT_FALSE(splitHostPort(":7443", &host, &port));
  EXPECT_FALSE(splitHostPort("manager", &host, &port));
}

}  // namespace
}  // namespace asp::relay
