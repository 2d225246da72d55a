# Where `cmake --install` and the Debian package put stockrelay's files.
#
# The Python module and the Odoo addons belong in different places depending
# on the install prefix, which is only known at install time (`cmake --install
# build --prefix P`; CPack installs with prefix /usr), so install(CODE) picks
# them then and the install rules use them as \${STOCKRELAY_PYTHON_DEST} and
# \${STOCKRELAY_ODOO_ADDONS_DEST} (relative to the prefix):
#   prefix /usr (the Debian package): Debian's own places,
#     lib/python3/dist-packages, and lib/python3/dist-packages/odoo/addons,
#     where Odoo's Debian package looks for addons;
#   any other prefix (/usr/local, /opt/x): lib/python3.X/dist-packages (under
#     /usr/local that is what Debian's python3 searches; it does not search
#     /usr/local/lib/python3/dist-packages) and share/stockrelay/odoo-addons
#     (add it to Odoo's addons_path).
# -DSTOCKRELAY_PYTHON_DIR=... and -DSTOCKRELAY_ODOO_ADDONS_DIR=... (relative to
# the prefix) force one place whatever the prefix.

set(STOCKRELAY_PYTHON_DIR "" CACHE STRING
    "Where stockrelay_native is installed, relative to the prefix (empty: chosen by prefix at install time)")
set(STOCKRELAY_ODOO_ADDONS_DIR "" CACHE STRING
    "Where the Odoo addons are installed, relative to the prefix (empty: chosen by prefix at install time)")

# Directories the install creates are 0755 whatever the umask (lintian).
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

# With the module, the components pybind11 needs: it reuses this search
# (it skips its own when Python_FOUND is set).
if(STOCKRELAY_BUILD_PYTHON)
  find_package(Python 3 COMPONENTS Interpreter Development.Module REQUIRED)
else()
  find_package(Python 3 COMPONENTS Interpreter REQUIRED)
endif()
set(_stockrelay_py_versioned "lib/python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}/dist-packages")

install(CODE "
  if(CMAKE_INSTALL_PREFIX STREQUAL \"/usr\")
    set(STOCKRELAY_PYTHON_DEST \"lib/python3/dist-packages\")
    set(STOCKRELAY_ODOO_ADDONS_DEST \"lib/python3/dist-packages/odoo/addons\")
  else()
    set(STOCKRELAY_PYTHON_DEST \"${_stockrelay_py_versioned}\")
    set(STOCKRELAY_ODOO_ADDONS_DEST \"share/stockrelay/odoo-addons\")
  endif()
  if(NOT \"${STOCKRELAY_PYTHON_DIR}\" STREQUAL \"\")
    set(STOCKRELAY_PYTHON_DEST \"${STOCKRELAY_PYTHON_DIR}\")
  endif()
  if(NOT \"${STOCKRELAY_ODOO_ADDONS_DIR}\" STREQUAL \"\")
    set(STOCKRELAY_ODOO_ADDONS_DEST \"${STOCKRELAY_ODOO_ADDONS_DIR}\")
  endif()
")
