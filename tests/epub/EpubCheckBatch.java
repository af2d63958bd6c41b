// Runs EPUBCheck on many books in one JVM, for every test process of a run: the JVM start and
// EPUBCheck's schema loading are most of a single check's time (about 6 CPU seconds), so the test
// session starts one of these and its xdist workers all send it their books.
// Usage: java -cp epubcheck.jar EpubCheckBatch.java PORT_FILE
// Listens on a loopback port, written to PORT_FILE once it accepts (the file is written whole,
// then renamed into place). On each connection it reads requests, one a line: REPORT<TAB>BOOK,
// both URL-encoded (UTF-8); for each it writes REPORT (EPUBCheck's --json report of BOOK with
// --failonwarnings) and answers "EpubCheckBatch done CODE" (its exit code) on a line of its own.
// One book is checked at a time. It ends once its stdin has ended (the process that started it is
// gone) and no connection is open, removing PORT_FILE.
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

public class EpubCheckBatch {
    private static final Object LOCK = new Object();
    private static int open = 0;
    private static boolean ownerGone = false;
    private static Path portFile;

    public static void main(String[] args) throws Exception {
        portFile = Path.of(args[0]);
        ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(server.getLocalPort()));
        Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
        Thread owner = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {}
            } catch (IOException e) {
                // the owner is gone either way
            }
            synchronized (LOCK) {
                ownerGone = true;
                endIfUnused();
            }
        });
        owner.setDaemon(true);
        owner.start();
        while (true) {
            Socket socket = server.accept();
            synchronized (LOCK) {
                open++;
            }
            Thread t = new Thread(() -> serve(socket));
            t.setDaemon(true);
            t.start();
        }
    }

    private static void endIfUnused() {
        if (ownerGone && open == 0) {
            try {
                Files.deleteIfExists(portFile);
            } catch (IOException e) {
                // nothing to keep
            }
            System.exit(0);
        }
    }

    private static void serve(Socket socket) {
        try (socket;
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                Writer out = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] parts = line.split("\t", 2);
                String report = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
                String book = URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
                int code;
                synchronized (EpubCheckBatch.class) {
                    code = new EpubChecker().run(new String[] {book, "--failonwarnings", "--json", report, "-q"});
                }
                out.write("EpubCheckBatch done " + code + "\n");
                out.flush();
            }
        } catch (IOException e) {
            // the client went away
        } finally {
            synchronized (LOCK) {
                open--;
                endIfUnused();
            }
        }
    }
}
