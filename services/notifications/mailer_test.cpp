// SmtpSession against a small SMTP server of the test's own (tests/harness/fake_smtp.hpp) that
// counts connections: one connection carries every mail of a session, and a session gets over a
// connection the server ended.
#include "services/notifications/mailer.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "tests/harness/fake_smtp.hpp"

namespace ecd::notifications {
namespace {

using test::FakeSmtpServer;

OutgoingMail MailTo(const std::string& address, int n) {
  OutgoingMail mail;
  mail.message_id = "m" + std::to_string(n) + "@events.ecd";
  mail.to_address = address;
  mail.to_name = "Awa Diop";
  mail.subject = "Inscription confirmée";
  mail.text = "Bonjour,\nvotre inscription est confirmée.\n";
  return mail;
}

SmtpConfig ConfigFor(const FakeSmtpServer& server) {
  SmtpConfig config;
  config.url = server.url();
  config.timeout = std::chrono::milliseconds(5000);
  return config;
}

TEST(SmtpSession, SendsEveryMailOverOneConnection) {
  FakeSmtpServer server;
  Mailer mailer(ConfigFor(server));
  SmtpSession session(mailer);
  for (int i = 0; i < 20; ++i) {
    SendResult r = session.Send(MailTo("awa.diop@justice.sn", i));
    ASSERT_TRUE(r.ok) << i << ": " << r.error;
  }
  EXPECT_EQ(server.mails(), 20);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(session.connections(), 1);
  // Each mail arrived once, with its own Message-ID.
  auto ids = server.message_ids();
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 20u);
  EXPECT_EQ(ids.front(), "<m0@events.ecd>");
}

TEST(SmtpSession, MailerSendAloneOpensAConnectionPerMail) {
  FakeSmtpServer server;
  Mailer mailer(ConfigFor(server));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(mailer.Send(MailTo("awa.diop@justice.sn", i)).ok);
  EXPECT_EQ(server.mails(), 3);
  EXPECT_EQ(server.connections(), 3);
}

TEST(SmtpSession, ReconnectsAfterTheServerClosedTheConnection) {
  FakeSmtpServer server;
  Mailer mailer(ConfigFor(server));
  SmtpSession session(mailer);
  ASSERT_TRUE(session.Send(MailTo("awa.diop@justice.sn", 1)).ok);
  server.DropConnections();  // an idle timeout on the server's side
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  SendResult r = session.Send(MailTo("awa.diop@justice.sn", 2));
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(server.mails(), 2);
  EXPECT_EQ(server.connections(), 2);
  // And the new connection is kept in turn.
  ASSERT_TRUE(session.Send(MailTo("awa.diop@justice.sn", 3)).ok);
  EXPECT_EQ(server.connections(), 2);
}

// A relay that takes 5 mails per connection answers the sixth MAIL FROM with a 421 and hangs up:
// that mail goes at once over a new connection, not after a retry delay.
TEST(SmtpSession, AMailRefusedOnAKeptConnectionGoesOverANewOne) {
  FakeSmtpServer server(5);
  Mailer mailer(ConfigFor(server));
  SmtpSession session(mailer);
  for (int i = 0; i < 20; ++i) {
    SendResult r = session.Send(MailTo("awa.diop@justice.sn", i));
    ASSERT_TRUE(r.ok) << i << ": " << r.error;
  }
  EXPECT_EQ(server.mails(), 20);
  EXPECT_EQ(server.connections(), 4);
}

TEST(SmtpSession, ARefusalForGoodStaysPermanentAndTheNextMailStillGoes) {
  FakeSmtpServer server;
  Mailer mailer(ConfigFor(server));
  SmtpSession session(mailer);
  ASSERT_TRUE(session.Send(MailTo("awa.diop@justice.sn", 1)).ok);
  SendResult refused = session.Send(MailTo("reject@justice.sn", 2));
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(refused.permanent) << refused.error;
  EXPECT_NE(refused.error.find("SMTP 550"), std::string::npos) << refused.error;
  SendResult next = session.Send(MailTo("awa.diop@justice.sn", 3));
  EXPECT_TRUE(next.ok) << next.error;
  EXPECT_EQ(server.mails(), 2);
}

TEST(SmtpSession, AServerThatIsGoneIsATransientFailure) {
  SmtpConfig config;
  {
    FakeSmtpServer server;
    config.url = server.url();
  }  // nothing listens on the port any more
  config.timeout = std::chrono::milliseconds(2000);
  Mailer mailer(config);
  SmtpSession session(mailer);
  SendResult r = session.Send(MailTo("awa.diop@justice.sn", 1));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.permanent);
  EXPECT_FALSE(r.aborted);
}

// A server that accepts the connection and never greets: the abort flag (shutdown) ends the
// exchange well before the timeout, and it is not an attempt.
TEST(SmtpSession, AbortEndsAStalledExchange) {
  const int tarpit = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(tarpit, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(tarpit, 8), 0);
  socklen_t len = sizeof addr;
  getsockname(tarpit, reinterpret_cast<sockaddr*>(&addr), &len);
  SmtpConfig config;
  config.url = "smtp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  config.timeout = std::chrono::milliseconds(60000);
  Mailer mailer(config);
  SmtpSession session(mailer);
  std::atomic<bool> abort{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    abort = true;
  });
  const auto start = std::chrono::steady_clock::now();
  SendResult r = session.Send(MailTo("awa.diop@justice.sn", 1), &abort);
  stopper.join();
  EXPECT_TRUE(r.aborted) << r.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  close(tarpit);
}

}  // namespace
}  // namespace ecd::notifications
