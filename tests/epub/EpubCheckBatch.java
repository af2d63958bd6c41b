// Runs EPUBCheck on many books in one JVM (the JVM start and EPUBCheck's schema loading are most
// of a single check's time, so the test session keeps one of these running per worker).
// Usage: java -cp epubcheck.jar EpubCheckBatch.java
// Reads requests from stdin, one a line: REPORT<TAB>BOOK, both URL-encoded (UTF-8). For each it
// writes REPORT (EPUBCheck's --json report of BOOK with --failonwarnings) and prints
// "EpubCheckBatch done CODE" (its exit code) on a line of its own. It ends at the end of stdin.
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

public class EpubCheckBatch {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] parts = line.split("\t", 2);
            String report = URLDecoder.decode(parts[0], StandardCharsets.UTF_8);
            String book = URLDecoder.decode(parts[1], StandardCharsets.UTF_8);
            int code = new EpubChecker().run(new String[] {book, "--failonwarnings", "--json", report, "-q"});
            System.out.println("EpubCheckBatch done " + code);
            System.out.flush();
        }
    }
}
