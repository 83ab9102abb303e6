/* fs_journal.c: does the file system under a path journal its metadata
 * (fs_journal.h)? */
#include "base/fs_journal.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* The type of the file system with device number dev, from mountinfo:
 * "36 25 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw". */
static int mount_type(dev_t dev, char *type, size_t type_size)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (f == NULL)
        return -1;
    char line[4096];
    int found = -1;
    while (found < 0 && fgets(line, sizeof(line), f)) {
        unsigned major_no, minor_no;
        if (sscanf(line, "%*s %*s %u:%u", &major_no, &minor_no) != 2 ||
            makedev(major_no, minor_no) != dev)
            continue;
        const char *sep = strstr(line, " - ");
        char name[64];
        if (sep && sscanf(sep + 3, "%63s", name) == 1) {
            snprintf(type, type_size, "%s", name);
            found = 0;
        }
    }
    fclose(f);
    return found;
}

/* The kernel's name of block device dev ("vda", "sda1", "dm-0"), as ext4
 * and jbd2 use it under /proc/fs. */
static int device_name(dev_t dev, char *name, size_t name_size)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev),
             minor(dev));
    ssize_t n = readlink(link, target, sizeof(target) - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    const char *base = strrchr(target, '/');
    base = base ? base + 1 : target;
    size_t len = strlen(base);
    if (len == 0 || len >= name_size)
        return -1;
    memcpy(name, base, len + 1);
    return 0;
}

/* A running journal shows as /proc/fs/jbd2/NAME-INODE (NAME-8 for the
 * usual internal journal). */
static int has_jbd2(const char *name)
{
    DIR *dir = opendir("/proc/fs/jbd2");
    if (dir == NULL)
        return 0;
    size_t len = strlen(name);
    int found = 0;
    struct dirent *de;
    while (!found && (de = readdir(dir)) != NULL)
        found = strncmp(de->d_name, name, len) == 0 && de->d_name[len] == '-';
    closedir(dir);
    return found;
}

int fs_lacks_journal(const char *path, char *what, size_t what_size)
{
    struct stat st;
    char type[64], name[128];
    if (stat(path, &st) < 0 || mount_type(st.st_dev, type, sizeof(type)) < 0)
        return 0;
    int ext2 = strcmp(type, "ext2") == 0;
    if (!ext2 && strcmp(type, "ext3") != 0 && strcmp(type, "ext4") != 0)
        return 0;
    if (device_name(st.st_dev, name, sizeof(name)) < 0)
        return 0;
    if (!ext2) {
        /* ext3/ext4 names its /proc/fs/ext4 entry after the device; when
         * that is missing the name is not the one we think: say nothing. */
        char entry[PATH_MAX];
        snprintf(entry, sizeof(entry), "/proc/fs/ext4/%s", name);
        if (access(entry, F_OK) < 0 || has_jbd2(name))
            return 0;
    }
    snprintf(what, what_size, "%s on %s", type, name);
    return 1;
}
